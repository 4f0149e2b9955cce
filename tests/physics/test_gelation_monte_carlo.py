"""The gel criterion and gel fraction of n-arm crosslinkers against a Monte-Carlo gelation of random links.

QDs are nodes; each of N·M molecules has n arms, each bonded with probability
q to a uniformly random QD; a molecule joins the QDs its bonded arms sit on.
The largest connected component's share of QDs is the gel fraction.
"""

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from litho.chemistry import hypergraph_gel_fraction
from litho.development import flory_gel_fraction

QDS = 40_000


def monte_carlo_gel_fraction(molecules_per_qd, arms, q, seed=0):
    rng = np.random.default_rng(seed)
    molecules = int(molecules_per_qd * QDS)
    bonded = rng.random((molecules, arms)) < q
    sites = rng.integers(0, QDS, size=(molecules, arms))
    rows, cols = [], []
    first = np.where(bonded.any(axis=1), np.argmax(bonded, axis=1), -1)
    for k in range(arms):       # a star from each molecule's first bonded arm joins all its QDs
        use = bonded[:, k] & (first >= 0) & (first != k)
        rows.append(sites[use, k])
        cols.append(sites[use, first[use]])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(QDS, QDS))
    _, labels = connected_components(graph, directed=False)
    return np.bincount(labels).max() / QDS


@pytest.mark.parametrize("arms, n_per_qd", [(2, 20.0), (3, 20.0), (6, 10.0)])
def test_gel_point_is_branching_factor_one_for_every_arm_count(arms, n_per_qd):
    q_gel = 1.0 / np.sqrt(n_per_qd * arms * (arms - 1))      # R = N·n(n−1)·q² = 1
    below = monte_carlo_gel_fraction(n_per_qd, arms, 0.8 * q_gel)
    above = monte_carlo_gel_fraction(n_per_qd, arms, 1.25 * q_gel)
    assert below < 0.02           # finite clusters only
    assert above > 0.2            # a giant component


@pytest.mark.parametrize("arms, n_per_qd, q", [(2, 20.0, 0.25), (3, 20.0, 0.12), (6, 10.0, 0.08), (6, 2.0, 0.3)])
def test_hypergraph_gel_fraction_matches_monte_carlo(arms, n_per_qd, q):
    exact = float(hypergraph_gel_fraction(n_per_qd, arms, q))
    assert monte_carlo_gel_fraction(n_per_qd, arms, q) == pytest.approx(exact, abs=0.02)


@pytest.mark.parametrize("arms, n_per_qd, q", [(3, 20.0, 0.12), (6, 10.0, 0.08)])
def test_flory_in_the_branching_factor_is_the_small_q_limit(arms, n_per_qd, q):
    # litho develops with g = 1 − exp(−R·g), R = N·n(n−1)·q²: the gel point is exact for every n, the gel
    # fraction above it is exact for n = 2 and high by O(n·q) for more arms (0.07 for n = 6 at q = 0.08)
    r = n_per_qd * arms * (arms - 1) * q * q
    flory, exact = float(flory_gel_fraction(r)), float(hypergraph_gel_fraction(n_per_qd, arms, q))
    assert exact <= flory < exact + 0.1


def test_two_arm_hypergraph_is_flory_exactly():
    q = np.linspace(0.05, 0.6, 12)
    n = 12.0
    assert np.allclose(hypergraph_gel_fraction(n, 2, q), flory_gel_fraction(2 * n * q * q), atol=1e-4)   # fixed-point iteration converges slowly next to the gel point


@pytest.mark.parametrize("name, loading", [("Tris-TAD", 10.0), ("IP-6-LiXer", 5.0), ("PETMP", 2.0)])
def test_development_gels_multi_arm_crosslinkers_at_the_exact_hypergraph_fraction(name, loading):
    from litho import materials
    from litho.chemistry import flory_equivalent_links, molecules_per_qd

    film = materials.resolve("film", {"material": "InP/ZnSe/ZnS"})
    xl = materials.resolve("crosslinker", {"material": name, "loading_wt_pct": loading})
    reach = molecules_per_qd(xl, film) * xl.link_reach_fraction
    q = np.geomspace(1e-3, 0.9, 200)
    g = flory_gel_fraction(flory_equivalent_links(q, xl, film))
    exact = hypergraph_gel_fraction(reach, xl.arms, q, iterations=2000)
    assert np.allclose(g, exact, atol=2e-3)
    # and the gel point is the branching factor's
    q_gel = 1.0 / np.sqrt(reach * xl.arms * (xl.arms - 1))
    assert float(flory_gel_fraction(flory_equivalent_links(0.98 * q_gel, xl, film))) == 0.0
    assert float(flory_gel_fraction(flory_equivalent_links(1.05 * q_gel, xl, film))) > 0.0
