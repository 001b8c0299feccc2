//! Mutation test: the JSON and XML readers never panic on official examples that
//! have been damaged at random, and every error they give points inside the text.
//! Deterministic (a fixed-seed generator), bounded in count.

use std::io::Read as _;

use assure_fhir::model::parse_json;

/// xorshift64*: small, fast and reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn examples(limit: usize) -> Vec<(String, Vec<u8>)> {
    let path = assure_testdata::path("fhir-packages/hl7.fhir.r4.examples-4.0.1.tgz");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for entry in archive.entries().expect("tar") {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").display().to_string();
        if !name.ends_with(".json") || name.ends_with("package.json") {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        // Small and medium files keep the test quick.
        if bytes.len() < 64 * 1024 && out.len() < limit {
            out.push((name, bytes));
        }
    }
    out
}

fn mutate(rng: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for _ in 0..=rng.below(3) {
        if b.is_empty() {
            break;
        }
        let at = rng.below(b.len());
        match rng.below(6) {
            0 => b[at] = rng.next() as u8,
            1 => b.truncate(at),
            2 => {
                const BYTES: &[u8] = b"{}[]\",:\\\n0-e.";
                b.insert(at, BYTES[rng.below(BYTES.len())]);
            }
            3 => {
                b.remove(at);
            }
            4 => {
                let end = (at + rng.below(64)).min(b.len());
                let chunk = b[at..end].to_vec();
                b.splice(at..at, chunk);
            }
            _ => b
                .splice(at..at, std::iter::repeat_n(b'[', rng.below(2000)))
                .for_each(drop),
        }
    }
    b
}

#[test]
fn damaged_json_examples_never_panic_and_errors_point_inside_the_text() {
    let files = examples(400);
    assert!(files.len() >= 300, "only {} examples", files.len());
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let (mut parsed, mut rejected) = (0, 0);
    for (name, bytes) in &files {
        for _ in 0..25 {
            let damaged = mutate(&mut rng, bytes);
            let Ok(text) = std::str::from_utf8(&damaged) else {
                continue;
            };
            match parse_json(text) {
                Ok(_) => parsed += 1,
                Err(e) => {
                    rejected += 1;
                    let lines = text.split('\n').count() as u32;
                    assert!(
                        e.pos.line >= 1 && e.pos.line <= lines.max(1),
                        "{name}: error at {} of {lines} lines",
                        e.pos
                    );
                    assert!(e.pos.col >= 1, "{name}: column {}", e.pos.col);
                }
            }
        }
    }
    eprintln!("damaged JSON examples: {parsed} still parse, {rejected} rejected with a position");
    assert!(
        rejected > parsed,
        "the mutations should mostly break the JSON"
    );
}
