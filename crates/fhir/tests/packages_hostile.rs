//! Hostile package archives, built here: gzip bombs, too many entries, duplicate
//! entries, names and versions that are not plain file names. Each is refused with
//! the cause named, before it fills memory or disk, and leaves nothing in the cache.

use std::io::Write;

use assure_fhir::package::{
    unpack_with, ArchiveLimits, LoadOptions, PackageCache, PackageError, PackageSet,
};

fn header(name: &str, size: u64) -> [u8; 512] {
    let mut h = tar::Header::new_gnu();
    // Written raw: the tar crate refuses to write the `..` a hostile archive holds.
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut out = [0u8; 512];
    out.copy_from_slice(h.as_bytes());
    out
}

/// A valid `.tgz` holding `package/package.json` and then each `(name, MiB)` entry
/// full of zeros, made without compressing the zeros: after a full flush deflate
/// starts afresh, so the compressed form of one MiB of zeros can be repeated; the
/// CRC is combined, not computed.
fn bomb(entries: &[(&str, u64)]) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    let manifest = br#"{"name":"bomb","version":"1.0.0"}"#;
    let mut first = Vec::new();
    first.extend_from_slice(&header("package/package.json", manifest.len() as u64));
    first.extend_from_slice(manifest);
    first.resize(1024, 0);
    let zeros = vec![0u8; 1 << 20];
    let mut deflate = Compress::new(Compression::best(), false);
    let mut run = |input: &[u8], flush: FlushCompress| {
        let mut out = Vec::with_capacity(input.len() + 1024);
        deflate.compress_vec(input, &mut out, flush).unwrap();
        out
    };
    let mut crc = Crc::new();
    let mut zeros_crc = Crc::new();
    zeros_crc.update(&zeros);
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    gz.extend_from_slice(&run(&first, FlushCompress::Full));
    crc.update(&first);
    let mut chunk = None;
    for (name, mib) in entries {
        let head = header(name, mib << 20);
        gz.extend_from_slice(&run(&head, FlushCompress::Full));
        crc.update(&head);
        let chunk = chunk.get_or_insert_with(|| run(&zeros, FlushCompress::Full));
        for _ in 0..*mib {
            gz.extend_from_slice(chunk);
            crc.combine(&zeros_crc);
        }
    }
    let tail = [0u8; 1024]; // end of archive: two zero blocks
    gz.extend_from_slice(&run(&tail, FlushCompress::Finish));
    crc.update(&tail);
    gz.extend_from_slice(&crc.sum().to_le_bytes());
    gz.extend_from_slice(&crc.amount().to_le_bytes());
    gz
}

/// `n` entries of one MiB of zeros each.
fn many_mib(n: usize) -> Vec<u8> {
    let names: Vec<String> = (0..n).map(|i| format!("package/z{i}.json")).collect();
    let entries: Vec<(&str, u64)> = names.iter().map(|n| (n.as_str(), 1)).collect();
    bomb(&entries)
}

fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, bytes) in files {
        out.extend_from_slice(&header(name, bytes.len() as u64));
        out.extend_from_slice(bytes);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&out).unwrap();
    gz.finish().unwrap()
}

fn refused(err: PackageError, words: &str) {
    assert!(
        matches!(err, PackageError::Refused { .. }) && err.to_string().contains(words),
        "expected a refusal saying `{words}`: {err}"
    );
    assert!(err.is_bad_input());
}

fn cache_is_empty(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

#[test]
fn the_bomb_is_a_real_archive() {
    // Proof that the refusals below are the limits at work, not a broken archive.
    let small = bomb(&[("package/a.json", 3), ("package/b.json", 2)]);
    let files = unpack_with(&small, "bomb.tgz", &ArchiveLimits::default()).unwrap();
    assert_eq!(files[1].0, "package/a.json");
    assert_eq!(files[1].1.len(), 3 << 20);
    assert_eq!(files[2].1.len(), 2 << 20);
    assert!(small.len() < 16 << 10, "{} bytes", small.len());
}

#[test]
fn a_gzip_bomb_is_refused_before_it_is_inflated() {
    // 2.4 MB that inflates to 2.4 GB in one entry: its header gives it away.
    let bytes = bomb(&[("package/bomb.json", 2_400)]);
    assert!(bytes.len() < 3_000_000, "{} bytes", bytes.len());
    let err = unpack_with(&bytes, "bomb.tgz", &ArchiveLimits::default()).unwrap_err();
    refused(err, "`package/bomb.json` says it is 2400 MiB");
    let dir = tempfile::tempdir().unwrap();
    let cache = PackageCache::new(dir.path().join("cache"));
    refused(
        cache.install_tgz(&bytes, "bomb.tgz", None).unwrap_err(),
        "over 100:1",
    );
    assert!(cache_is_empty(&dir.path().join("cache")));
    let err =
        PackageSet::from_tgz_bytes(&[("bomb.tgz", &bytes)], &LoadOptions::default()).unwrap_err();
    refused(err, "gzip bomb");
}

#[test]
fn a_bomb_of_small_entries_is_refused_as_it_inflates() {
    // 300 MiB in 1 MiB entries from about 300 KB: each entry fits, the sum does not.
    let bytes = many_mib(300);
    let err = unpack_with(&bytes, "bombs.tgz", &ArchiveLimits::default()).unwrap_err();
    refused(err, "over 100:1");
    let dir = tempfile::tempdir().unwrap();
    let cache = PackageCache::new(dir.path().join("cache"));
    refused(
        cache.install_tgz(&bytes, "bombs.tgz", None).unwrap_err(),
        "gzip bomb",
    );
    assert!(cache_is_empty(&dir.path().join("cache")));
}

#[test]
fn the_size_cap_holds_whatever_the_ratio() {
    let bytes = many_mib(12);
    let limits = ArchiveLimits {
        max_unpacked_bytes: 8 << 20,
        max_ratio: 1_000_000,
        ..ArchiveLimits::default()
    };
    let err = unpack_with(&bytes, "bomb.tgz", &limits).unwrap_err();
    refused(err, "more than 8 MiB (the package size limit");
    let roomy = ArchiveLimits {
        max_unpacked_bytes: 13 << 20,
        ..limits
    };
    assert_eq!(unpack_with(&bytes, "bomb.tgz", &roomy).unwrap().len(), 13);
    // The cache's limits apply to what it installs, and to archives loaded with it.
    let dir = tempfile::tempdir().unwrap();
    let cache = PackageCache::new(dir.path().join("cache")).with_limits(limits);
    refused(
        cache.install_tgz(&bytes, "bomb.tgz", None).unwrap_err(),
        "package size limit",
    );
    assert!(cache_is_empty(&dir.path().join("cache")));
    let path = dir.path().join("bomb.tgz");
    std::fs::write(&path, &bytes).unwrap();
    let options = LoadOptions {
        cache: Some(cache),
        allow_missing_dependencies: true,
    };
    refused(
        PackageSet::load(&[path], &options).unwrap_err(),
        "package size limit",
    );
}

#[test]
fn too_many_entries_are_refused() {
    let names: Vec<String> = (0..40).map(|i| format!("package/f{i}.json")).collect();
    let mut files: Vec<(&str, &[u8])> = vec![(
        "package/package.json",
        br#"{"name":"many","version":"1.0.0"}"#,
    )];
    files.extend(names.iter().map(|n| (n.as_str(), b"{}".as_slice())));
    let bytes = tgz(&files);
    let limits = ArchiveLimits {
        max_entries: 40,
        ..ArchiveLimits::default()
    };
    refused(
        unpack_with(&bytes, "many.tgz", &limits).unwrap_err(),
        "more than 40 entries",
    );
    let enough = ArchiveLimits {
        max_entries: 41,
        ..limits
    };
    assert_eq!(unpack_with(&bytes, "many.tgz", &enough).unwrap().len(), 41);
}

#[test]
fn a_duplicate_manifest_is_refused_and_other_duplicates_are_the_last_copy() {
    let good: &[u8] = br#"{"name":"good","version":"1.0.0"}"#;
    let evil: &[u8] = br#"{"name":"evil","version":"6.6.6"}"#;
    let dir = tempfile::tempdir().unwrap();
    let cache = PackageCache::new(dir.path().join("cache"));
    for second in [
        "package/package.json",
        "./package/package.json",
        "package//package.json",
    ] {
        let bytes = tgz(&[("package/package.json", good), (second, evil)]);
        refused(
            cache.install_tgz(&bytes, "dup.tgz", None).unwrap_err(),
            "`package/package.json` appears twice",
        );
        let err = PackageSet::from_tgz_bytes(&[("dup.tgz", &bytes)], &LoadOptions::default())
            .unwrap_err();
        refused(err, "appears twice");
    }
    assert!(cache_is_empty(&dir.path().join("cache")));
    let bytes = tgz(&[
        ("package/package.json", good),
        ("package/../../x.json", b"{}"),
    ]);
    refused(
        cache.install_tgz(&bytes, "climb.tgz", None).unwrap_err(),
        "climbs out",
    );
    // Other files given twice are the last copy, everywhere (published packages
    // repeat entries): what is loaded is what is written.
    let first: &[u8] = br#"{"resourceType":"ValueSet","url":"http://e/first"}"#;
    let last: &[u8] = br#"{"resourceType":"ValueSet","url":"http://e/last"}"#;
    let twice = tgz(&[
        ("package/package.json", good),
        ("package/v.json", first),
        ("package/v.json", last),
    ]);
    let set =
        PackageSet::from_tgz_bytes(&[("twice.tgz", &twice)], &LoadOptions::default()).unwrap();
    assert!(set.resolve("http://e/last").is_some());
    assert!(set.resolve("http://e/first").is_none());
    let folder = cache.install_tgz(&twice, "twice.tgz", None).unwrap();
    assert_eq!(std::fs::read(folder.join("package/v.json")).unwrap(), last);
}

#[test]
fn names_and_versions_must_be_plain_file_names_and_the_field_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cache = PackageCache::new(dir.path().join("cache"));
    for (name, version, field) in [
        ("a.pkg", "", "`version`"),
        ("a.pkg", ".", "`version`"),
        ("a.pkg", "..", "`version`"),
        ("", "1.0.0", "`name`"),
        ("..", "1.0.0", "`name`"),
        (".", "1.0.0", "`name`"),
        ("a/../../b", "1.0.0", "`name`"),
        ("a.pkg", "1.0.0/..", "`version`"),
    ] {
        let manifest = format!(r#"{{"name":"{name}","version":"{version}"}}"#);
        let bytes = tgz(&[("package/package.json", manifest.as_bytes())]);
        let err = cache.install_tgz(&bytes, "x.tgz", None).unwrap_err();
        assert!(
            matches!(err, PackageError::Manifest { .. }) && err.to_string().contains(field),
            "{name}#{version}: {err}"
        );
        assert!(err.is_bad_input());
    }
    assert!(cache_is_empty(&dir.path().join("cache")));
    let folder = dir.path().join("assets");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("p.xml"),
        r#"<StructureDefinition xmlns="http://hl7.org/fhir"><url value="https://x.org/p"/><fhirVersion value="3.0.1"/></StructureDefinition>"#,
    )
    .unwrap();
    for (name, version, field) in [("x", "..", "`version`"), ("..", "1", "`name`")] {
        let err = cache.install_as(&folder, name, version).unwrap_err();
        assert!(err.to_string().contains(field), "{err}");
    }
}
