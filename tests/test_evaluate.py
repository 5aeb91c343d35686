"""Re-ID evaluation: CMC / mAP against hand-checked values and an independent loop implementation of the
official MARS code, the MARS protocol on the real test structure, re-ranking against the dense published
algorithm, the store protocol and the command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import need
from reference_kreciprocal import dense_jaccard

from reid_from_video.cli import main
from reid_from_video.core.errors import InputError
from reid_from_video.embed.features import chosen_frames, pool_frames
from reid_from_video.evaluate.config import EvaluateConfig, RerankConfig
from reid_from_video.evaluate.evaluation import evaluate_features, score_tracklets
from reid_from_video.evaluate.ranking import rank_chunk
from reid_from_video.io.mars import load_mars
from reid_from_video.io.protocol import Protocol, mars_protocol, tracklet_protocol
from reid_from_video.io.store import write_index_table
from reid_from_video.io.tracklets import load_tracklets
from reid_from_video.kreciprocal import rerank_blocks

# ------------------------------------------------------------------------------ independent reference


def official_ap_cmc(good: set[int], junk: set[int], order: np.ndarray) -> tuple[float, np.ndarray]:
    """compute_AP.m of the MARS / Market-1501 evaluation, line by line (loop, no vectorisation)."""
    cmc = np.zeros(len(order))
    n_good = len(good)
    old_recall, old_precision, ap = 0.0, 1.0, 0.0
    intersect, j, good_now, n_junk = 0, 0, 0, 0
    for n, item in enumerate(order):
        flag = False
        if item in good:
            cmc[n - n_junk :] = 1
            flag = True
            good_now += 1
        if item in junk:
            n_junk += 1
            continue
        if flag:
            intersect += 1
        recall = intersect / n_good
        precision = intersect / (j + 1)
        ap += (recall - old_recall) * ((old_precision + precision) / 2)
        old_recall, old_precision = recall, precision
        j += 1
        if good_now == n_good:
            break
    return ap, cmc


def step_ap(good: set[int], junk: set[int], order: np.ndarray) -> float:
    """Non-interpolated AP (torchreid): mean precision at each good match, junk removed."""
    kept = [i for i in order if i not in junk]
    hits = [i in good for i in kept]
    precisions = [sum(hits[: n + 1]) / (n + 1) for n, hit in enumerate(hits) if hit]
    return float(np.mean(precisions))


def reference_scores(distances, q_ids, q_cams, g_ids, g_cams, junk_ids, mode):
    aps, firsts = [], []
    for row, qid, qcam in zip(distances, q_ids, q_cams, strict=True):
        order = np.argsort(row, kind="stable")
        good = {g for g in range(len(g_ids)) if g_ids[g] == qid and g_cams[g] != qcam}
        junk = {
            g for g in range(len(g_ids)) if (g_ids[g] == qid and g_cams[g] == qcam) or g_ids[g] in junk_ids
        }
        if not good:
            aps.append(np.nan)
            firsts.append(-1)
            continue
        ap, cmc = official_ap_cmc(good, junk, order)
        aps.append(ap if mode == "trapezoid" else step_ap(good, junk, order))
        firsts.append(int(np.argmax(cmc)))
    return np.array(aps), np.array(firsts)


# ---------------------------------------------------------------------------------------- ranking


def test_hand_checked_example():
    """Ranked gallery: same camera (junk), wrong, good, junk id 0, good, distractor.

    Without junk: wrong, good, good, distractor. Step AP = (1/2 + 2/3) / 2; trapezoid AP adds
    (0 + 1/2)/2 and (1/2 + 2/3)/2, each times the recall step 1/2; the first match is at rank 2."""
    g_ids = np.array([1, 2, 1, 0, 1, -1])
    g_cams = np.array([1, 2, 2, 4, 3, 5])
    distances = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])
    for mode, expected in (("step", (1 / 2 + 2 / 3) / 2), ("trapezoid", 0.5 * (0.25 + (0.5 + 2 / 3) / 2))):
        ap, first = rank_chunk(distances, np.array([1]), np.array([1]), g_ids, g_cams, (0,), mode)
        assert ap[0] == pytest.approx(expected, abs=1e-12)
        assert first[0] == 1


@pytest.mark.parametrize("mode", ["trapezoid", "step"])
def test_random_agrees_with_official_loop(mode):
    rng = np.random.default_rng(1)
    n_gallery, n_query = 120, 40
    g_ids = rng.integers(-1, 12, n_gallery)
    g_cams = rng.integers(1, 4, n_gallery)
    q_ids = rng.integers(1, 14, n_query)  # ids 12, 13 have no gallery match: invalid queries
    q_cams = rng.integers(1, 4, n_query)
    distances = rng.random((n_query, n_gallery)).round(2)  # ties too: the order is stable
    ap, first = rank_chunk(distances, q_ids, q_cams, g_ids, g_cams, (0,), mode)
    ref_ap, ref_first = reference_scores(distances, q_ids, q_cams, g_ids, g_cams, (0,), mode)
    np.testing.assert_allclose(ap, ref_ap, atol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(first, ref_first)
    assert np.isnan(ap).any()  # the invalid queries exist and are marked


def test_blocks_do_not_change_the_result():
    rng = np.random.default_rng(2)
    ids = rng.integers(1, 30, 300)
    cams = rng.integers(1, 5, 300)
    protocol = Protocol("t", ids, cams, query=np.arange(0, 300, 3), gallery=np.arange(300))
    features = rng.normal(size=(300, 16))
    whole = evaluate_features(features, protocol, EvaluateConfig(block=1024))
    blocked = evaluate_features(features, protocol, EvaluateConfig(block=7))
    np.testing.assert_array_equal(whole.ap, blocked.ap)
    np.testing.assert_array_equal(whole.cmc, blocked.cmc)


def test_perfect_features_score_one():
    ids = np.repeat(np.arange(1, 11), 4)
    cams = np.tile([1, 2, 3, 4], 10)
    features = np.eye(11)[ids] + 0.01 * np.random.default_rng(0).normal(size=(40, 11))
    result = evaluate_features(features, tracklet_protocol(ids, cams), EvaluateConfig(metric="euclidean"))
    assert result.valid_queries == 40 and result.mean_ap == pytest.approx(1.0) and result.rank(1) == 1.0


def test_mars_protocol_on_real_test_structure(shared_data):
    """All 1980 official queries are valid; random features score at chance."""
    ds = load_mars(need(shared_data, "mars/info"))
    protocol = mars_protocol(ds)
    assert protocol.summary()["queries"] == 1980 and protocol.summary()["gallery"] == 12180
    features = np.random.default_rng(0).normal(size=(len(protocol.ids), 32))
    result = evaluate_features(features, protocol, EvaluateConfig())
    assert result.queries == result.valid_queries == 1980
    assert result.rank(1) < 0.01 and result.mean_ap < 0.01


# ------------------------------------------------------------------------------------ re-ranking


def dense_rerank(query, gallery, k1, k2, lam):
    """The published k-reciprocal re-ranking (Zhong et al. 2017), with dense N x N matrices."""
    jaccard, dist = dense_jaccard(np.concatenate([query, gallery]), k1, k2)
    n_query = len(query)
    return (jaccard[:n_query] * (1 - lam) + dist[:n_query] * lam)[:, n_query:]


def test_sparse_rerank_equals_dense_reference():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(15, 24))
    labels = rng.integers(0, 15, 160)
    feats = centres[labels] + 0.6 * rng.normal(size=(160, 24))
    query, gallery = feats[:40], feats[40:]
    ours = np.concatenate([d for _, d in rerank_blocks(query, gallery, k1=12, k2=4, lam=0.3, block=16)])
    np.testing.assert_allclose(ours, dense_rerank(query, gallery, 12, 4, 0.3), atol=1e-5)


def test_rerank_improves_clustered_features():
    rng = np.random.default_rng(4)
    ids = np.repeat(np.arange(1, 41), 6)
    cams = np.tile(np.arange(1, 7), 40)
    feats = rng.normal(size=(40, 32))[ids - 1] + 1.1 * rng.normal(size=(240, 32))
    protocol = tracklet_protocol(ids, cams)
    plain = evaluate_features(feats, protocol, EvaluateConfig(metric="euclidean"))
    ranked = evaluate_features(feats, protocol, EvaluateConfig(rerank=RerankConfig(enabled=True, k1=8, k2=3)))
    assert ranked.mean_ap > plain.mean_ap


# ------------------------------------------------------------------------------- features, protocol


def test_chosen_frames_and_pooling():
    assert chosen_frames(5, 0).tolist() == [0, 1, 2, 3, 4]
    assert chosen_frames(3, 8).tolist() == [0, 1, 2]
    assert chosen_frames(9, 3).tolist() == [0, 4, 8]
    pooled = pool_frames(np.array([[1.0, 0], [3, 2], [5, 5]]), [2, 1])
    np.testing.assert_allclose(pooled, [[2, 1], [5, 5]])


def test_tracklet_protocol_one_query_per_identity_camera():
    ids = np.array([1, 1, 1, 2, 2, 3, 3])
    cams = np.array(["a", "a", "b", "a", "a", "a", "b"])
    protocol = tracklet_protocol(ids, cams, seed=0)
    # Identity 2 is seen in one camera only: never a query. 1 and 3: one query per camera.
    assert sorted(zip(ids[protocol.query], cams[protocol.query], strict=True)) == [
        (1, "a"),
        (1, "b"),
        (3, "a"),
        (3, "b"),
    ]
    assert protocol.gallery.tolist() == list(range(7))


def _store(root, rows):
    table = pd.DataFrame(rows, columns=["camera", "track", "frame", "gt_id"])
    table = table.assign(time_s=0.0, x=0.0, y=0.0, w=1.0, h=2.0, score=1.0)
    table["path"] = [
        f"crops/{c}/{t}/{f:06d}.jpg" for c, t, f in zip(table.camera, table.track, table.frame, strict=True)
    ]
    root.mkdir(parents=True)
    write_index_table(root / "index.csv", table)
    return root


def test_store_tracklets_take_the_majority_identity(tmp_path):
    rows = [("c1", 1, 1, 7), ("c1", 1, 2, 7), ("c1", 1, 3, 9), ("c2", 4, 1, 9), ("c2", 5, 1, None)]
    tracklets = load_tracklets(_store(tmp_path / "s", rows))
    assert tracklets.protocol.ids.tolist() == [7, 9]  # (c2, 5) has no gt: left out
    assert [len(p) for p in tracklets.paths] == [3, 1]
    assert tracklets.paths[0][0].endswith("crops/c1/1/000001.jpg")


# ------------------------------------------------------------------------------------------ command


def test_command_with_features_file(tmp_path):
    rows = [(c, t, 1, pid) for t, (c, pid) in enumerate([(c, p) for p in (1, 2, 3) for c in ("c1", "c2")])]
    store = _store(tmp_path / "s", rows)
    # Rows follow the tracklets sorted by (camera, track): c1's three, then c2's.
    features = np.eye(4)[[1, 2, 3, 1, 2, 3]].astype(np.float32)
    np.save(tmp_path / "f.npy", features)
    out = tmp_path / "eval"
    assert main(["evaluate", str(store), "--features", str(tmp_path / "f.npy"), "--out", str(out)]) == 0
    summary = json.loads((out / "evaluate.json").read_text())
    assert summary["queries"] == summary["valid_queries"] == 6
    assert summary["mAP"] == pytest.approx(1.0) and summary["rank1"] == 1.0
    assert (out / "cmc.png").stat().st_size > 1000 and (out / "config.yaml").is_file()


def test_features_with_wrong_rows_name_the_file(tmp_path):
    store = _store(tmp_path / "s", [("c1", 1, 1, 1), ("c2", 2, 1, 1)])
    np.save(tmp_path / "f.npy", np.zeros((5, 3), np.float32))
    with pytest.raises(InputError, match=r"f\.npy: 5 rows, expected one per tracklet \(2\)"):
        score_tracklets(store, EvaluateConfig(), features_path=tmp_path / "f.npy")


def test_osnet_on_the_synthetic_world_is_far_above_chance(shared_data, tmp_path):
    """End to end: a synthetic world exported in the MARS layout, the real OSNet through `rfv evaluate`."""
    from reid_from_video.core.config import load_config
    from reid_from_video.synth.config import SynthConfig
    from reid_from_video.synth.pipeline import synthesize

    osnet = need(shared_data, "models/osnet_x0_25_msmt17.onnx")
    world = dict(cameras=3, identities=12, seconds=30, fps=5, size="320x180", seed=3)
    synthesize(
        load_config(SynthConfig, None, [f"{k}={v}" for k, v in world.items()]), tmp_path / "w", progress=False
    )
    out = tmp_path / "eval"
    args = ["evaluate", str(tmp_path / "w" / "mars"), "--model", str(osnet), "--out", str(out)]
    assert main([*args, "frames_per_tracklet=4"]) == 0
    summary = json.loads((out / "evaluate.json").read_text())
    assert summary["queries"] == summary["valid_queries"] >= 5
    # Chance: the same protocol scored with random features, averaged over seeds.
    protocol = load_tracklets(tmp_path / "w" / "mars").protocol
    chance = [
        evaluate_features(
            np.random.default_rng(s).normal(size=(len(protocol.ids), 8)), protocol, EvaluateConfig()
        )
        for s in range(30)
    ]
    chance_map, chance_rank1 = np.mean([c.mean_ap for c in chance]), np.mean([c.rank(1) for c in chance])
    assert summary["mAP"] > chance_map + 0.3 and summary["rank1"] > chance_rank1 + 0.3
