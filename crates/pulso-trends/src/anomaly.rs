//! Robust anomaly scores: how far a bucket sits from the median of the buckets before it, in
//! units of their median absolute deviation, so one earlier spike does not hide the next.

/// MAD times this estimates the standard deviation for normal data.
const MAD_TO_SIGMA: f64 = 1.4826;

/// One robust z-score per bucket against the `baseline` buckets before it. `None` where the
/// bucket has no value or fewer than half of its baseline buckets have one. `floor` bounds the
/// spread from below, so a perfectly flat baseline does not turn any wobble into infinity.
pub fn robust_z(values: &[Option<f64>], baseline: usize, floor: f64) -> Vec<Option<f64>> {
    (0..values.len())
        .map(|i| {
            let value = values[i]?;
            let window: Vec<f64> = values[i.saturating_sub(baseline)..i]
                .iter()
                .flatten()
                .copied()
                .collect();
            if window.len() * 2 < baseline || window.is_empty() {
                return None;
            }
            let (median, mad) = median_mad(&window);
            let spread = (MAD_TO_SIGMA * mad).max(floor);
            Some((value - median) / spread)
        })
        .collect()
}

/// The baseline median before bucket `i`, for explaining a spike.
pub fn baseline_median(values: &[Option<f64>], i: usize, baseline: usize) -> Option<f64> {
    let window: Vec<f64> = values[i.saturating_sub(baseline)..i]
        .iter()
        .flatten()
        .copied()
        .collect();
    (!window.is_empty()).then(|| median_mad(&window).0)
}

pub fn median_mad(values: &[f64]) -> (f64, f64) {
    let median = median(values.to_vec());
    let deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    (median, median_of(deviations))
}

fn median(values: Vec<f64>) -> f64 {
    median_of(values)
}

fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Runs of consecutive buckets at or above `threshold`: `(first, last)` indexes.
pub fn spikes(z: &[Option<f64>], threshold: f64) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, value) in z.iter().enumerate() {
        let high = value.is_some_and(|v| v >= threshold);
        match (high, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i - 1));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, z.len() - 1));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_scores_high_and_an_outlier_in_the_baseline_does_not_mask_it() {
        let mut values: Vec<Option<f64>> =
            [10.0, 11.0, 9.0, 10.0, 50.0, 10.0, 11.0, 9.0, 10.0, 30.0]
                .into_iter()
                .map(Some)
                .collect();
        let z = robust_z(&values, 8, 0.5);
        assert!(
            z[..4].iter().all(Option::is_none),
            "too little baseline: {z:?}"
        );
        assert!(z[9].unwrap() > 10.0, "{z:?}");
        values[8] = None;
        let z = robust_z(&values, 8, 0.5);
        assert_eq!(z[8], None);
        assert!(z[9].unwrap() > 10.0);
    }

    #[test]
    fn flat_baselines_use_the_floor() {
        let values: Vec<Option<f64>> = vec![Some(5.0); 6].into_iter().chain([Some(6.0)]).collect();
        let z = robust_z(&values, 5, 2.0);
        assert_eq!(z[6], Some(0.5));
    }

    #[test]
    fn runs_of_high_buckets_merge() {
        let z = [None, Some(4.0), Some(5.0), Some(1.0), Some(3.6)];
        assert_eq!(spikes(&z, 3.5), vec![(1, 2), (4, 4)]);
        assert_eq!(median_mad(&[1.0, 2.0, 3.0, 4.0, 100.0]), (3.0, 1.0));
    }
}
