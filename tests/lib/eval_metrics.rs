//! Metrics against scikit-learn / numpy golden values (`reference/metrics/cases.json`, tolerance 1e-9).
use crate::common;

use serde_json::Value;
use storyscore::eval::metrics::{
    cosine_matrix, macro_average_precision, macro_roc_auc, r2_per_output, RetrievalScores,
};

const TOL: f64 = 1e-9;

fn cases() -> Option<Value> {
    let p = common::shared("reference/metrics/cases.json")?;
    let text = std::fs::read_to_string(&p).expect("cases.json readable");
    Some(serde_json::from_str(&text).expect("cases.json is JSON"))
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("matrix")
        .iter()
        .map(|r| r.as_array().expect("row").iter().map(|x| x.as_f64().expect("number")).collect())
        .collect()
}

fn vector(v: &Value) -> Vec<f64> {
    v.as_array().expect("vector").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn argmax(row: &[f64]) -> usize {
    row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).expect("non-empty row")
}

fn close(name: &str, got: f64, want: f64) {
    assert!((got - want).abs() <= TOL, "{name}: got {got}, want {want}");
}

#[test]
fn auc_cases_match_sklearn() {
    let Some(c) = cases() else { return };
    let auc = c["cases"]["auc"].as_array().expect("auc cases");
    assert_eq!(auc.len(), 4);
    for case in auc {
        let name = case["name"].as_str().unwrap_or("?");
        let y_true: Vec<Vec<bool>> =
            matrix(&case["y_true"]).into_iter().map(|r| r.into_iter().map(|x| x != 0.0).collect()).collect();
        let y_score = matrix(&case["y_score"]);
        let e = &case["expected"];
        let roc = macro_roc_auc(&y_true, &y_score).expect("roc defined");
        let pr = macro_average_precision(&y_true, &y_score).expect("ap defined");
        close(&format!("{name} roc macro"), roc.macro_mean, e["roc_auc_macro"].as_f64().expect("num"));
        close(&format!("{name} pr macro"), pr.macro_mean, e["pr_auc_macro"].as_f64().expect("num"));
        for (i, want) in vector(&e["roc_auc_per_class"]).into_iter().enumerate() {
            close(&format!("{name} roc class {i}"), roc.per_class[i], want);
        }
        for (i, want) in vector(&e["pr_auc_per_class"]).into_iter().enumerate() {
            close(&format!("{name} pr class {i}"), pr.per_class[i], want);
        }
    }
}

#[test]
fn retrieval_cases_match_reference() {
    let Some(c) = cases() else { return };
    let Some(mp) = common::shared("reference/mappings.json") else { return };
    let mappings: Value = serde_json::from_str(&std::fs::read_to_string(mp).expect("read")).expect("json");
    let retrieval = c["cases"]["retrieval"].as_array().expect("retrieval cases");
    assert_eq!(retrieval.len(), 3);
    for case in retrieval {
        let name = case["name"].as_str().unwrap_or("?");
        let text_moods: Vec<&str> =
            case["text_moods"].as_array().expect("moods").iter().map(|m| m.as_str().expect("str")).collect();
        let song_moods: Vec<&str> =
            case["song_moods"].as_array().expect("moods").iter().map(|m| m.as_str().expect("str")).collect();
        let sim = cosine_matrix(&matrix(&case["text_embeddings"]), &matrix(&case["song_embeddings"]));
        let want_sim = matrix(&case["text2song_cosine"]);
        for (q, row) in sim.iter().enumerate() {
            for (s, v) in row.iter().enumerate() {
                close(&format!("{name} cosine {q},{s}"), *v, want_sim[q][s]);
            }
        }
        let text_label: Vec<usize> = matrix(&case["text_binaries"]).iter().map(|r| argmax(r)).collect();
        let song_label: Vec<usize> = matrix(&case["song_binaries"]).iter().map(|r| argmax(r)).collect();
        for (mapping, e) in case["expected"].as_object().expect("expected") {
            let sets = &mappings["retrieval_success_sets"][mapping.as_str()];
            let is_hit = |q: usize, s: usize| {
                sets[text_moods[text_label[q]]]
                    .as_array()
                    .is_some_and(|set| set.iter().any(|m| m.as_str() == Some(song_moods[song_label[s]])))
            };
            let got = RetrievalScores::from_similarity(&sim, is_hit).expect("scores");
            let tag = format!("{name}/{mapping}");
            close(&format!("{tag} p@1"), got.p_at_1, e["p_at_1"].as_f64().expect("num"));
            close(&format!("{tag} p@5"), got.p_at_5, e["p_at_5"].as_f64().expect("num"));
            close(&format!("{tag} p@10"), got.p_at_10, e["p_at_10"].as_f64().expect("num"));
            close(&format!("{tag} mrr"), got.mrr, e["mrr"].as_f64().expect("num"));
            let ranks: Vec<Option<usize>> = e["first_success_rank_per_query"]
                .as_array()
                .expect("ranks")
                .iter()
                .map(|r| r.as_u64().map(|r| r as usize))
                .collect();
            assert_eq!(got.first_hit_rank_per_query, ranks, "{tag} first ranks");
            let want_p5 = vector(&e["p_at_5_per_query"]);
            assert_eq!(got.p_at_5_per_query.len(), want_p5.len());
            for (i, (g, w)) in got.p_at_5_per_query.iter().zip(&want_p5).enumerate() {
                assert_eq!((g * 5.0).round(), (w * 5.0).round(), "{tag} hits in top 5 of query {i}");
            }
        }
    }
}

#[test]
fn r2_cases_match_sklearn() {
    let Some(c) = cases() else { return };
    let r2 = c["cases"]["r2"].as_array().expect("r2 cases");
    assert_eq!(r2.len(), 2);
    let mut saw_negative = false;
    for case in r2 {
        let name = case["name"].as_str().unwrap_or("?");
        let (raw, mean) = r2_per_output(&matrix(&case["y_true"]), &matrix(&case["y_pred"])).expect("r2");
        let e = &case["expected"];
        for (i, want) in vector(&e["r2_raw_values"]).into_iter().enumerate() {
            close(&format!("{name} r2[{i}]"), raw[i], want);
            saw_negative |= want < 0.0;
        }
        close(&format!("{name} mean"), mean, e["r2_mean"].as_f64().expect("num"));
        close(&format!("{name} uniform"), mean, e["r2_uniform_average"].as_f64().expect("num"));
    }
    assert!(saw_negative, "the reference includes a negative R² case");
}

#[test]
fn mismatched_shapes_are_errors_not_panics() {
    let t = vec![vec![true, false], vec![false, true]];
    assert!(macro_roc_auc(&t, &[vec![0.1, 0.2]]).is_err());
    assert!(macro_average_precision(&t, &[vec![0.1], vec![0.2]]).is_err());
    assert!(r2_per_output(&[vec![1.0]], &[]).is_err());
    assert!(RetrievalScores::from_ranked_hits(&[]).is_err());
}
