"""Guidelines built to be slow or deep: for the solver (pigeonhole, wide enumerations, random
3-SAT chains) and for every pass (chains of lets, each let read once or twice)."""

from __future__ import annotations

import random

from tests.adversarial.hostile import SMALL

HEAD = '''guideline stress "Stress"
  version 1.0.0
  status draft
  updated 2026-01-24
  owner "Tests"

'''
TAIL_ACTION = '''action act other "Act" strong
  cite r1
action other_act other "Other" strong
  cite r1

reference r1 consensus "Committee"
'''

def pigeonhole(n: int) -> str:
    """n + 1 pigeons in n holes: the branch where every pigeon is alone is unreachable,
    which is exponentially hard to prove."""
    inputs = "".join(f'input p{i} "Pigeon {i}": integer 1..{n}\n' for i in range(n + 1))
    distinct = " and ".join(f"p{i} != p{j}" for i in range(n + 1) for j in range(i + 1, n + 1))
    return HEAD + inputs + "\n" + TAIL_ACTION + f'''
pathway
  start -> d

  decide d "Every pigeon alone?"
    when {distinct} -> s
    otherwise -> e

  step s "S"
    recommend act
    then -> e

  end e
'''

def big_enum(k: int) -> str:
    """Two k-value enums and k branches: k * (k - 1) / 2 overlap questions."""
    values = ", ".join(f"v{i}" for i in range(k))
    branches = "".join(f"    when a == v{i} and b == v{(i * 7) % k} -> e\n" for i in range(k))
    inputs = f'input a "A": one of {values}\ninput b "B": one of {values}\n\n'
    return HEAD + inputs + TAIL_ACTION + f'''
pathway
  start -> d

  decide d "Which?"
{branches}    otherwise -> s

  step s "S"
    recommend act
    then -> e

  end e
'''

def sat_chain(decisions: int, variables: int = 200, seed: int = 1) -> str:
    """A chain of decisions, each on a random 3-SAT formula over ``variables`` inputs."""
    rnd = random.Random(seed)
    inputs = "".join(f'input x{i} "X{i}": boolean\n' for i in range(variables))
    nodes = []
    for d in range(decisions):
        cond = " and ".join(f"({_clause(rnd, variables)})" for _ in range(4))
        nxt = f"d{d + 1}" if d + 1 < decisions else "s"
        nodes.append(f'  decide d{d} "D{d}"\n    when {cond} -> {nxt}\n    otherwise -> e\n')
    pathway = "\npathway\n  start -> d0\n\n" + "\n".join(nodes)
    return HEAD + inputs + "\n" + TAIL_ACTION + pathway + '''
  step s "S"
    recommend act
    then -> e

  end e
'''

def _clause(rnd: random.Random, variables: int) -> str:
    return " or ".join(("" if rnd.random() < .5 else "not ") + f"x{rnd.randrange(variables)}"
                       for _ in range(3))


def let_chain(n: int, twice: bool = False, optional: bool = False) -> str:
    """The small guideline whose recommendation reads the last of ``n`` lets, each defined
    from the one before (read twice with ``twice``: naive evaluation is 2 ** n)."""
    lets = ["let l0 = x > 1"]
    for i in range(1, n):
        body = f"l{i - 1} and (l{i - 1} or y > {i % 90})" if twice else \
            f"l{i - 1} and y > {i % 90}"
        lets.append(f"let l{i} = {body}")
    source = SMALL.replace("recommend act when x > 1 and y > 0.5", f"recommend act when l{n - 1}")
    source = source.replace("\naction", "\n" + "\n".join(lets) + "\n\naction", 1)
    if optional:
        source = source.replace('input y "Y": number', 'input y "Y": optional number')
    return source
