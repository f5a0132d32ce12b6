use super::*;
use crate::synthetic_run::{write_finished_run, write_metrics};

/// Decodes a PNG into (width, height, RGB(A) bytes, bytes per pixel).
fn decode(path: &Path) -> (u32, u32, Vec<u8>, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf, info.color_type.samples())
}

fn pixel(image: &(u32, u32, Vec<u8>, usize), x: u32, y: u32) -> [u8; 3] {
    let i = (y as usize * image.0 as usize + x as usize) * image.3;
    [image.2[i], image.2[i + 1], image.2[i + 2]]
}

#[test]
fn finished_run_gets_every_chart_as_a_decodable_png() {
    let dir = tempfile::tempdir().unwrap();
    write_finished_run(dir.path(), 12);
    let paths = write_charts(dir.path()).unwrap();
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "reward.png",
            "accuracy.png",
            "kl.png",
            "entropy.png",
            "response_length.png",
            "clip_fraction.png",
            "sampler_gap.png",
            "grad_norm.png",
            "tokens_per_second.png",
            "heldout_accuracy.png"
        ]
    );
    for path in &paths {
        assert_eq!(path.parent().unwrap(), dir.path().join("charts"));
        let image = decode(path);
        assert_eq!((image.0, image.1), (WIDTH, HEIGHT), "{}", path.display());
        // The smoothed line's colour is drawn, and the title band holds dark (text) pixels.
        let colors: Vec<[u8; 3]> = (0..HEIGHT)
            .flat_map(|y| (0..WIDTH).map(move |x| (x, y)))
            .map(|(x, y)| pixel(&image, x, y))
            .collect();
        assert!(
            colors.contains(&[31, 91, 170]),
            "no series drawn in {}",
            path.display()
        );
        let title_band_dark = (0..40)
            .flat_map(|y| (0..WIDTH).map(move |x| (x, y)))
            .any(|(x, y)| pixel(&image, x, y).iter().all(|&c| c < 80));
        assert!(title_band_dark, "no title text in {}", path.display());
    }
}

#[test]
fn missing_metrics_are_skipped_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    write_metrics(dir.path(), &["reward_mean", "kl", "loss"], 5);
    let run = RunRecord::load(dir.path()).unwrap();
    let outcome = render_charts(&run).unwrap();
    let titles: Vec<&str> = outcome.written.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Mean reward per step",
            "KL divergence to the reference policy"
        ]
    );
    assert_eq!(
        outcome.skipped.len(),
        TRAINING_CHARTS.len() - 2 + 1,
        "{:?}",
        outcome.skipped
    );
    assert!(outcome
        .skipped
        .contains(&"Policy entropy (entropy)".to_string()));
    assert!(outcome
        .skipped
        .contains(&"Held-out accuracy (greedy) (eval_accuracy)".to_string()));
    assert!(!dir.path().join("charts/entropy.png").exists());
}

#[test]
fn a_single_step_still_draws() {
    let dir = tempfile::tempdir().unwrap();
    write_metrics(dir.path(), &["reward_mean"], 1);
    let paths = write_charts(dir.path()).unwrap();
    assert_eq!(paths.len(), 1);
    assert_eq!(decode(&paths[0]).0, WIDTH);
}

#[test]
fn held_out_points_join_before_periodic_and_after() {
    let dir = tempfile::tempdir().unwrap();
    write_finished_run(dir.path(), 4);
    let mut run = RunRecord::load(dir.path()).unwrap();
    assert_eq!(held_out_points(&run), vec![(0.0, 0.22), (4.0, 0.68)]);
    run.metrics[1].values.push(("eval_accuracy".into(), 0.5));
    run.metrics[3].values.push(("eval_accuracy".into(), 0.7));
    // The periodic evaluation at the last step stands for "after".
    assert_eq!(
        held_out_points(&run),
        vec![(0.0, 0.22), (2.0, 0.5), (4.0, 0.7)]
    );
}
