//! FLAC decoding and tag probing on a file written here: a minimal encoder using VERBATIM
//! subframes (valid FLAC, just uncompressed), so the test needs no external encoder.
mod common;

use std::path::Path;

use storyscore::audio::{decode, load_mono_16k, probe};
use tempfile::TempDir;

const BLOCK: usize = 4096;

fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |mut crc, &b| {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 { (crc << 1) ^ 0x07 } else { crc << 1 };
        }
        crc
    })
}

fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |mut crc, &b| {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x8005 } else { crc << 1 };
        }
        crc
    })
}

/// Writes 16-bit FLAC: STREAMINFO, a Vorbis comment block, then one frame per 4096-sample block.
fn write_flac(path: &Path, rate: u32, channels: &[Vec<i16>], comments: &[&str]) {
    let n = channels[0].len();
    let mut out = b"fLaC".to_vec();
    let mut info = Vec::new();
    info.extend((BLOCK as u16).to_be_bytes()); // min block size
    info.extend((BLOCK as u16).to_be_bytes()); // max block size
    info.extend([0u8; 6]); // min/max frame size unknown
                           // 20 bits rate, 3 bits channels-1, 5 bits bps-1, 36 bits total samples.
    let packed: u64 =
        ((rate as u64) << 44) | (((channels.len() - 1) as u64) << 41) | (15u64 << 36) | n as u64;
    info.extend(packed.to_be_bytes());
    info.extend([0u8; 16]); // MD5 unknown
    out.push(0x00); // STREAMINFO, not last
    out.extend(&(info.len() as u32).to_be_bytes()[1..]);
    out.extend(info);
    let mut vc = Vec::new();
    let vendor = b"storyscore test";
    vc.extend((vendor.len() as u32).to_le_bytes());
    vc.extend(vendor);
    vc.extend((comments.len() as u32).to_le_bytes());
    for c in comments {
        vc.extend((c.len() as u32).to_le_bytes());
        vc.extend(c.as_bytes());
    }
    out.push(0x80 | 4); // VORBIS_COMMENT, last block
    out.extend(&(vc.len() as u32).to_be_bytes()[1..]);
    out.extend(vc);
    for (frame_no, start) in (0..n).step_by(BLOCK).enumerate() {
        let len = BLOCK.min(n - start);
        assert!(frame_no < 128, "one-byte frame numbers only");
        let mut frame = vec![0xFF, 0xF8, 0x70, (((channels.len() - 1) as u8) << 4) | 0x08, frame_no as u8];
        frame.extend(((len - 1) as u16).to_be_bytes());
        frame.push(crc8(&frame));
        for ch in channels {
            frame.push(0x02); // VERBATIM subframe, no wasted bits
            for s in &ch[start..start + len] {
                frame.extend(s.to_be_bytes());
            }
        }
        let crc = crc16(&frame);
        frame.extend(crc.to_be_bytes());
        out.extend(frame);
    }
    std::fs::write(path, out).expect("write flac");
}

#[test]
fn stereo_flac_decodes_downmixes_and_probes() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("tone.flac");
    let n = 22_050 + 123; // a partial last block
    let left: Vec<i16> = (0..n).map(|i| ((i as f32 * 0.05).sin() * 12_000.0) as i16).collect();
    let right: Vec<i16> = (0..n).map(|i| ((i % 200) as i16 - 100) * 50).collect();
    write_flac(
        &path,
        22_050,
        &[left.clone(), right.clone()],
        &["TITLE=Dragon's Lair", "ARTIST=Test Band", "GENRE=Score"],
    );

    let d = decode(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((d.sample_rate, d.channels, d.samples_mono.len(), d.truncated), (22_050, 2, n, false));
    for i in (0..n).step_by(97) {
        let expect = (left[i] as f32 / 32_768.0 + right[i] as f32 / 32_768.0) / 2.0;
        assert!((d.samples_mono[i] - expect).abs() < 1e-6, "sample {i}: {} vs {expect}", d.samples_mono[i]);
    }
    let resampled = load_mono_16k(&path).unwrap();
    assert!(resampled.len().abs_diff((n as f64 * 16_000.0 / 22_050.0).ceil() as usize) <= 1);

    let info = probe(&path).unwrap();
    assert_eq!((info.sample_rate, info.channels, info.codec.as_str()), (22_050, 2, "flac"));
    assert!((info.duration_s - n as f64 / 22_050.0).abs() < 1e-9);
    let tag = |k: &str| info.tags.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(tag("title"), Some("Dragon's Lair"), "{:?}", info.tags);
    assert_eq!(tag("artist"), Some("Test Band"));
    assert_eq!(tag("genre"), Some("Score"));
}

#[test]
fn truncated_flac_keeps_whole_frames() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("mono.flac");
    let x: Vec<i16> = (0..16_000).map(|i| ((i * 37) % 4000) as i16 - 2000).collect();
    write_flac(&path, 16_000, std::slice::from_ref(&x), &[]);
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.flac");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let d = decode(&cut).expect("the first frames decode");
    let n = d.samples_mono.len();
    assert!((BLOCK..16_000).contains(&n), "{n}");
    for (i, v) in d.samples_mono.iter().take(BLOCK).enumerate() {
        assert_eq!(*v, x[i] as f32 / 32_768.0);
    }
}
