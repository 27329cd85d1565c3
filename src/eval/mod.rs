//! Evaluation: the paper's metrics, baselines and the table `storyscore eval` prints.

pub mod embed;
pub mod metrics;
