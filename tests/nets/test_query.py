"""The query finder's layers: normalised cross-correlation, its grouped batching, spreading, scales."""
import pytest
import torch
import torch.nn.functional as F

from segwidgets.nets.query import (
    EMBED_CHANNELS, MAX_KERNEL_CELLS, SCALE_COUNT, QueryNet, normalized_cross_correlation, pooled_correlation,
    spread_over_extent,
)


def ncc_one_pair(query, support, search, eps=1e-4):
    """The same correlation written out for one pair, without the grouped convolution."""
    kh, kw = query.shape[-2:]
    h, w = search.shape[-2:]
    query = query * support
    dot = F.conv2d(search[None], query[None], padding=(kh // 2, kw // 2))[0, 0, :h, :w]
    energy = F.conv2d((search * search).sum(0)[None, None], support[None], padding=(kh // 2, kw // 2))[0, 0, :h, :w]
    scale = eps * support.sum() * query.shape[0]
    return dot / (query.norm() * torch.sqrt(energy + scale) + 1e-6)


def test_grouped_correlation_equals_a_loop_over_pairs():
    torch.manual_seed(0)
    n, c = 4, 6
    search = torch.randn(n, c, 11, 13)
    query = torch.randn(n, c, 5, 4)
    support = torch.zeros(n, 1, 5, 4)
    for i, (h, w) in enumerate([(5, 4), (3, 4), (5, 2), (1, 1)]):  # kernels of different sizes, padded to one
        support[i, :, :h, :w] = 1
    batched = normalized_cross_correlation(query, support, search)
    assert batched.shape == (n, 1, 11, 13)
    for i in range(n):
        torch.testing.assert_close(batched[i, 0], ncc_one_pair(query[i], support[i], search[i]), atol=1e-5, rtol=1e-5)


def test_correlation_is_one_where_the_query_was_cut_and_lower_elsewhere():
    torch.manual_seed(1)
    search = torch.randn(1, 8, 20, 24)
    query = search[:, :, 6:11, 9:14].clone()  # 5 x 5 cells around (8, 11)
    ncc = normalized_cross_correlation(query, torch.ones(1, 1, 5, 5), search)[0, 0]
    assert ncc[8, 11] == pytest.approx(1.0, abs=1e-3)
    assert int(ncc.argmax()) == 8 * 24 + 11
    assert ncc.abs().max() <= 1.0 + 1e-4
    # Scaling the search features changes nothing: the response is normalised.
    torch.testing.assert_close(normalized_cross_correlation(query, torch.ones(1, 1, 5, 5), 3 * search)[0, 0], ncc,
                               atol=1e-4, rtol=1e-4)


def test_spread_marks_the_query_extent_around_a_peak():
    scores = torch.zeros(1, 1, 15, 15)
    scores[0, 0, 7, 7] = 0.9
    spread = spread_over_extent(scores, [(5, 3)])[0, 0]
    assert (spread[5:10, 6:9] == 0.9).all()
    assert spread[4, 7] == 0 and spread[7, 5] == 0 and spread.sum() == pytest.approx(0.9 * 15)


def test_large_queries_correlate_on_a_coarser_grid():
    torch.manual_seed(2)
    search = torch.randn(2, 4, 40, 44)
    small = torch.randn(2, 4, MAX_KERNEL_CELLS, 6)
    ncc, _ = pooled_correlation(small, torch.ones(2, 1, MAX_KERNEL_CELLS, 6), search)
    torch.testing.assert_close(ncc, normalized_cross_correlation(small, torch.ones(2, 1, MAX_KERNEL_CELLS, 6), search))
    big = search[:, :, 5:29, 8:32].clone()  # 24 cells: pooled 3x
    ncc, spread = pooled_correlation(big, torch.ones(2, 1, 24, 24), search)
    assert ncc.shape == spread.shape == (2, 1, 40, 44)
    for i in range(2):  # the peak stays near the cut's centre (17, 20), within the coarse cell
        y, x = divmod(int(ncc[i, 0].argmax()), 44)
        assert abs(y - 17) <= 3 and abs(x - 20) <= 3
    assert (spread >= ncc - 1e-6).all()


def test_query_net_shapes():
    model = QueryNet().eval()
    with torch.no_grad():
        embedding, context = model.encode(torch.rand(1, 3, 100, 130))
        assert embedding.shape == (1, EMBED_CHANNELS, 13, 17) and context.shape[-2:] == (13, 17)
        queries = [model.encode(torch.rand(1, 3, 20 + 8 * k, 30))[0] for k in range(SCALE_COUNT)]
        supports = [torch.ones(1, 1, *q.shape[-2:]) for q in queries]
        per_scale, logits = model.heatmaps(queries, supports, embedding, context)
    assert per_scale.shape == (1, SCALE_COUNT, 13, 17) and logits.shape == (1, 1, 13, 17)
    with pytest.raises(ValueError, match="query scales"):
        model.heatmaps(queries[:2], supports[:2], embedding, context)
