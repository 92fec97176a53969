//! The digits model trained for real, checked on held-out samples, as JSON and as PNG.

use agora_executor::JobStatus;
use agora_inference::{DigitModel, DigitsExecutor, dataset, parse_input};

fn sample(i: usize) -> ([f32; 64], u32) {
    let (_, (x, y)) = dataset();
    let mut px = [0f32; 64];
    px.copy_from_slice(&x[i * 64..(i + 1) * 64]);
    (px, y[i])
}

/// An 8×8 sample drawn as a 64×64 PNG, dark ink on a white background.
fn as_png(px: &[f32; 64]) -> Vec<u8> {
    let mut img = vec![0u8; 64 * 64];
    for (i, p) in img.iter_mut().enumerate() {
        let (y, x) = (i / 64, i % 64);
        *p = 255 - (px[(y / 8) * 8 + x / 8] * 255.0) as u8;
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 64, 64);
        enc.set_color(png::ColorType::Grayscale);
        let mut w = enc.write_header().expect("header");
        w.write_image_data(&img).expect("data");
    }
    out
}

#[test]
fn the_model_learns_digits_and_reads_json_and_png() -> anyhow::Result<()> {
    let (model, report) = DigitModel::train(200)?;
    println!("{report:?}");
    assert!(report.test_accuracy >= 0.9, "held-out accuracy {}", report.test_accuracy);

    let mut right = 0;
    for i in 0..40 {
        let (px, label) = sample(i);
        let (digit, probs) = model.classify(&px)?;
        assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-3);
        if digit == label {
            right += 1;
        }
        // The same image as a PNG reads back to the same 8×8 grid and answer.
        let from_png = parse_input(&as_png(&px))?;
        let max_diff = from_png.iter().zip(px).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(max_diff < 0.01, "PNG round trip off by {max_diff}");
        assert_eq!(model.classify(&from_png)?.0, digit);
    }
    assert!(right >= 36, "{right}/40 held-out samples right");

    let exec = DigitsExecutor::new(model);
    let (px, label) = sample(0);
    let json = serde_json::json!({ "pixels": px.iter().map(|p| (p * 16.0).round()).collect::<Vec<_>>() });
    match exec.run(json.to_string().as_bytes()) {
        JobStatus::Succeeded { output } => {
            let v: serde_json::Value = serde_json::from_slice(&output)?;
            assert_eq!(v["digit"], label);
        }
        other => panic!("{other:?}"),
    }
    for (bad, why) in [
        (&b"hello"[..], "bad input: neither a PNG nor JSON"),
        (&b"[1,2,3]"[..], "bad input: expected 64 pixels (8×8), got 3"),
        (&b"{\"pixels\":[99]}"[..], "bad input: expected 64 pixels"),
        (&b"\x89PNG\r\n\x1a\ngarbage"[..], "bad input: PNG"),
    ] {
        match exec.run(bad) {
            JobStatus::Failed { reason } => assert!(reason.starts_with(why), "{reason} vs {why}"),
            other => panic!("{other:?}"),
        }
    }
    Ok(())
}
