//! A minimal streaming FLAC writer using VERBATIM subframes (valid FLAC, just uncompressed), so
//! tests and benches make real FLAC files without an external encoder. Frames are written as
//! they come: a three-hour file needs no more memory than one block.
#![allow(dead_code)]

use std::io::{self, Write};
use std::path::Path;

/// Samples per channel in each frame (the last may be shorter).
pub const BLOCK: usize = 4096;

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

/// A frame number in FLAC's UTF-8-like coding (1 to 6 bytes).
fn coded_number(n: u64, out: &mut Vec<u8>) {
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    let extra =
        [0x800u64, 0x1_0000, 0x20_0000, 0x400_0000, 0x8000_0000].iter().position(|&l| n < l).unwrap_or(5) + 1;
    let lead_mask = [0xC0u8, 0xE0, 0xF0, 0xF8, 0xFC][extra - 1];
    out.push(lead_mask | (n >> (6 * extra)) as u8);
    for i in (0..extra).rev() {
        out.push(0x80 | ((n >> (6 * i)) & 0x3F) as u8);
    }
}

/// 16-bit FLAC written frame by frame.
pub struct FlacWriter<W: Write> {
    out: W,
    channels: usize,
    frame_no: u64,
}

impl<W: Write> FlacWriter<W> {
    /// Writes STREAMINFO (declaring `total` samples per channel) and a Vorbis comment block.
    pub fn new(mut out: W, rate: u32, channels: usize, total: u64, comments: &[&str]) -> io::Result<Self> {
        out.write_all(b"fLaC")?;
        let mut info = Vec::new();
        info.extend((BLOCK as u16).to_be_bytes()); // min block size
        info.extend((BLOCK as u16).to_be_bytes()); // max block size
        info.extend([0u8; 6]); // min/max frame size unknown
                               // 20 bits rate, 3 bits channels-1, 5 bits bps-1, 36 bits total samples.
        let packed: u64 = ((rate as u64) << 44) | (((channels - 1) as u64) << 41) | (15u64 << 36) | total;
        info.extend(packed.to_be_bytes());
        info.extend([0u8; 16]); // MD5 unknown
        out.write_all(&[0x00])?; // STREAMINFO, not last
        out.write_all(&(info.len() as u32).to_be_bytes()[1..])?;
        out.write_all(&info)?;
        let mut vc = Vec::new();
        let vendor = b"storyscore test";
        vc.extend((vendor.len() as u32).to_le_bytes());
        vc.extend(vendor);
        vc.extend((comments.len() as u32).to_le_bytes());
        for c in comments {
            vc.extend((c.len() as u32).to_le_bytes());
            vc.extend(c.as_bytes());
        }
        out.write_all(&[0x80 | 4])?; // VORBIS_COMMENT, last block
        out.write_all(&(vc.len() as u32).to_be_bytes()[1..])?;
        out.write_all(&vc)?;
        Ok(Self { out, channels, frame_no: 0 })
    }

    /// One frame: the same number (1..=BLOCK) of samples for each channel.
    pub fn frame(&mut self, channels: &[&[i16]]) -> io::Result<()> {
        assert_eq!(channels.len(), self.channels);
        let len = channels[0].len();
        assert!((1..=BLOCK).contains(&len) && channels.iter().all(|c| c.len() == len));
        let mut frame = vec![0xFF, 0xF8, 0x70, (((self.channels - 1) as u8) << 4) | 0x08];
        coded_number(self.frame_no, &mut frame);
        frame.extend(((len - 1) as u16).to_be_bytes());
        frame.push(crc8(&frame));
        for ch in channels {
            frame.push(0x02); // VERBATIM subframe, no wasted bits
            for s in *ch {
                frame.extend(s.to_be_bytes());
            }
        }
        let crc = crc16(&frame);
        frame.extend(crc.to_be_bytes());
        self.frame_no += 1;
        self.out.write_all(&frame)
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes a whole 16-bit FLAC file from per-channel samples.
pub fn write_flac(path: &Path, rate: u32, channels: &[Vec<i16>], comments: &[&str]) -> io::Result<()> {
    let n = channels[0].len();
    let file = io::BufWriter::new(std::fs::File::create(path)?);
    let mut w = FlacWriter::new(file, rate, channels.len(), n as u64, comments)?;
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        let block: Vec<&[i16]> = channels.iter().map(|c| &c[start..end]).collect();
        w.frame(&block)?;
    }
    w.finish()?;
    Ok(())
}
