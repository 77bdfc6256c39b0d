//! The evidence bundle: a ZIP of the files someone else needs to check a
//! page without leakwatch, with a `sha256sum -c` manifest of every file and
//! the manifest's own hash. Pure: bytes in, bytes out.
//!
//! The ZIP is written here in its stored (uncompressed) form — local
//! headers, a central directory, CRC-32 — which every unzip reads; the page
//! inside is already what the site sent, and the bundle is small.

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::content::sha256_hex;

/// The manifest's name, in `sha256sum` format.
pub(crate) const MANIFEST: &str = "SHA256SUMS";
/// The file holding the manifest's own hash (`sha256sum -c` reads it too).
pub(crate) const MANIFEST_HASH: &str = "SHA256SUMS.sha256";

use anyhow::bail;

/// `sha256sum` lines for `files`, in the order given (two spaces: text
/// mode, as `sha256sum FILE…` prints them).
pub(crate) fn manifest(files: &[(&str, &[u8])]) -> String {
    files
        .iter()
        .map(|(name, bytes)| format!("{}  {name}\n", sha256_hex(bytes)))
        .collect()
}

/// The bundle: `files`, then `SHA256SUMS` over them, then
/// `SHA256SUMS.sha256` over the manifest, as one ZIP with every entry
/// dated `at`.
pub(crate) fn bundle(files: &[(&str, &[u8])], at: DateTime<Utc>) -> anyhow::Result<Vec<u8>> {
    let sums = manifest(files);
    let sums_hash = manifest(&[(MANIFEST, sums.as_bytes())]);
    let mut all: Vec<(&str, &[u8])> = files.to_vec();
    all.push((MANIFEST, sums.as_bytes()));
    all.push((MANIFEST_HASH, sums_hash.as_bytes()));
    stored_zip(&all, at)
}

/// A ZIP archive of `files` stored without compression.
pub(crate) fn stored_zip(files: &[(&str, &[u8])], at: DateTime<Utc>) -> anyhow::Result<Vec<u8>> {
    let (time, date) = dos_time(at);
    let mut out: Vec<u8> = Vec::new();
    let mut central: Vec<u8> = Vec::new();
    for (name, bytes) in files {
        if name.is_empty() || name.contains(['/', '\\']) || *name == ".." {
            bail!("{name}: a file name in a bundle is a plain name (no folders, no `..`)");
        }
        let too_large = |len: usize| {
            anyhow::anyhow!("{name}: {len} bytes is more than a ZIP without ZIP64 holds")
        };
        let len = u32::try_from(bytes.len()).map_err(|_| too_large(bytes.len()))?;
        let offset = u32::try_from(out.len()).map_err(|_| too_large(out.len()))?;
        let name_len = u16::try_from(name.len()).map_err(|_| too_large(name.len()))?;
        let crc = crc32fast::hash(bytes);
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0
        out.extend_from_slice(&0x0800u16.to_le_bytes()); // names are UTF-8
        out.extend_from_slice(&0u16.to_le_bytes()); // stored
        out.extend_from_slice(&time.to_le_bytes());
        out.extend_from_slice(&date.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes()); // compressed size
        out.extend_from_slice(&len.to_le_bytes()); // uncompressed size
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // no extra field
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(bytes);
        // Its central directory entry.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&0x031Eu16.to_le_bytes()); // made by: Unix, 3.0
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0x0800u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&time.to_le_bytes());
        central.extend_from_slice(&date.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&len.to_le_bytes());
        central.extend_from_slice(&len.to_le_bytes());
        central.extend_from_slice(&name_len.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&(0o100_644u32 << 16).to_le_bytes()); // -rw-r--r--
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let entries = u16::try_from(files.len())
        .map_err(|_| anyhow::anyhow!("{} files are more than a ZIP holds", files.len()))?;
    let cd_offset = u32::try_from(out.len())
        .map_err(|_| anyhow::anyhow!("{} bytes are more than a ZIP holds", out.len()))?;
    let cd_len = central.len() as u32;
    out.extend_from_slice(&central);
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&cd_len.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

/// MS-DOS time and date (2-second resolution, 1980 to 2107).
fn dos_time(at: DateTime<Utc>) -> (u16, u16) {
    let year = at.year().clamp(1980, 2107) as u16;
    let time = ((at.hour() as u16) << 11) | ((at.minute() as u16) << 5) | (at.second() as u16 / 2);
    let date = ((year - 1980) << 9) | ((at.month() as u16) << 5) | at.day() as u16;
    (time, date)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a stored ZIP back by its central directory: (name, bytes, crc ok).
    fn read_back(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
        let u32_at = |i: usize| u32::from_le_bytes(zip[i..i + 4].try_into().expect("4")) as usize;
        let eocd = zip.len() - 22;
        assert_eq!(u32_at(eocd), 0x0605_4b50, "end of central directory");
        let entries = u16_at(eocd + 10);
        let mut at = u32_at(eocd + 16);
        let mut out = Vec::new();
        for _ in 0..entries {
            assert_eq!(u32_at(at), 0x0201_4b50);
            let crc = u32_at(at + 16) as u32;
            let len = u32_at(at + 24);
            let name_len = u16_at(at + 28);
            let local = u32_at(at + 42);
            let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).expect("utf8");
            assert_eq!(u32_at(local), 0x0403_4b50);
            let data_at = local + 30 + u16_at(local + 26) + u16_at(local + 28);
            let data = zip[data_at..data_at + len].to_vec();
            assert_eq!(crc32fast::hash(&data), crc, "{name}");
            out.push((name, data));
            at += 46 + name_len;
        }
        out
    }

    #[test]
    fn bundle_holds_files_manifest_and_its_hash() {
        let at = DateTime::parse_from_rfc3339("2026-12-06T21:03:08Z")
            .expect("date")
            .with_timezone(&Utc);
        let raw = encoding_rs::SHIFT_JIS
            .encode("三菱ＵＦＪ 売ります")
            .0
            .into_owned();
        let zip = bundle(
            &[("page.raw", &raw), ("page.txt", "売ります".as_bytes())],
            at,
        )
        .expect("bundle");
        let files = read_back(&zip);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["page.raw", "page.txt", MANIFEST, MANIFEST_HASH]);
        assert_eq!(files[0].1, raw);
        let sums = String::from_utf8(files[2].1.clone()).expect("text");
        assert_eq!(
            sums.lines().next(),
            Some(format!("{}  page.raw", sha256_hex(&raw)).as_str())
        );
        assert_eq!(sums.lines().count(), 2);
        let own = String::from_utf8(files[3].1.clone()).expect("text");
        assert_eq!(
            own,
            format!("{}  SHA256SUMS\n", sha256_hex(sums.as_bytes()))
        );
    }

    #[test]
    fn dos_dates_and_bad_names() {
        let at = DateTime::parse_from_rfc3339("2026-12-06T21:03:08Z")
            .expect("date")
            .with_timezone(&Utc);
        let (time, date) = dos_time(at);
        assert_eq!(time >> 11, 21);
        assert_eq!((time >> 5) & 0x3f, 3);
        assert_eq!(time & 0x1f, 4);
        assert_eq!(date >> 9, 46);
        assert_eq!((date >> 5) & 0xf, 12);
        assert_eq!(date & 0x1f, 6);
        assert!(stored_zip(&[("../x", b"")], at).is_err());
        assert!(stored_zip(&[("a/b", b"")], at).is_err());
    }
}
