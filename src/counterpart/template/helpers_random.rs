//! WireMock's helpers of chance: `randomValue`, `randomInt`, `randomDecimal`,
//! `pickRandom`, with `randomValue` capped.

use handlebars::Handlebars;
use serde_json::{json, Value};

use super::helpers::{display, number, register_all, Call};
use super::{spend, MAX_RANDOM_LENGTH};
use rand_like::Rng;

pub(super) fn register(h: &mut Handlebars<'static>) {
    register_all(
        h,
        &[
            ("randomValue", random_value),
            ("randomInt", random_int),
            ("randomDecimal", random_decimal),
            ("pickRandom", pick_random),
        ],
    );
}

mod rand_like {
    /// A small xorshift generator seeded from the OS (through a fresh UUID).
    pub struct Rng(u64);

    impl Rng {
        pub fn new() -> Rng {
            let seed = u64::from_le_bytes(
                uuid::Uuid::new_v4().as_bytes()[..8]
                    .try_into()
                    .unwrap_or([7; 8]),
            );
            Rng(seed | 1)
        }

        pub fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        /// In `0..n` (n > 0).
        pub fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }

        pub fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }
}

fn random_value(c: &mut Call) -> Result<Value, String> {
    let kind = c.opt_text("type").unwrap_or_else(|| "ALPHANUMERIC".into());
    if kind == "UUID" {
        return Ok(Value::String(uuid::Uuid::new_v4().to_string()));
    }
    let length = match c.opt("length") {
        Some(Value::Number(n)) => n.as_u64().ok_or("length must be a whole number")?,
        Some(other) => display(other)
            .parse()
            .map_err(|_| "length must be a whole number".to_owned())?,
        None => 36,
    };
    if length > MAX_RANDOM_LENGTH as u64 {
        return Err(super::limit(format!(
            "limit: randomValue length {length} exceeds the cap of {MAX_RANDOM_LENGTH}"
        )));
    }
    spend(length as usize, "randomValue")?;
    let upper = c.flag("uppercase");
    let alphabet: &str = match kind.as_str() {
        "ALPHANUMERIC" => "abcdefghijklmnopqrstuvwxyz0123456789",
        "ALPHABETIC" => "abcdefghijklmnopqrstuvwxyz",
        "NUMERIC" => "0123456789",
        "HEXADECIMAL" => "0123456789abcdef",
        "ALPHANUMERIC_AND_SYMBOLS" => {
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_=+[]{};:,.<>/?"
        }
        other => return Err(format!("unknown randomValue type {other}")),
    };
    let chars: Vec<char> = alphabet.chars().collect();
    let mut rng = Rng::new();
    let s: String = (0..length)
        .map(|_| chars[rng.below(chars.len() as u64) as usize])
        .collect();
    Ok(Value::String(if upper { s.to_uppercase() } else { s }))
}

fn random_int(c: &mut Call) -> Result<Value, String> {
    let lower = number(c.opt("lower")).map_or(i64::from(i32::MIN), |n| n as i64);
    let upper = number(c.opt("upper")).map_or(i64::from(i32::MAX), |n| n as i64);
    if upper <= lower {
        return Err(
            "fatal: java.lang.IllegalArgumentException: bound must be greater than origin".into(),
        );
    }
    let span = (upper - lower) as u64;
    Ok(json!(lower + Rng::new().below(span) as i64))
}

fn random_decimal(c: &mut Call) -> Result<Value, String> {
    let lower = number(c.opt("lower")).unwrap_or(f64::MIN / 2.0);
    let upper = number(c.opt("upper")).unwrap_or(f64::MAX / 2.0);
    if upper <= lower {
        return Err("bound must be greater than origin".into());
    }
    Ok(json!(lower + Rng::new().unit() * (upper - lower)))
}

fn pick_random(c: &mut Call) -> Result<Value, String> {
    let mut items: Vec<Value> = match c.params.as_slice() {
        [Value::Array(a)] => a.clone(),
        other => other.to_vec(),
    };
    if items.is_empty() {
        return Err("pickRandom needs a list or values to pick from".into());
    }
    let mut rng = Rng::new();
    match number(c.opt("count")) {
        None => Ok(items.swap_remove(rng.below(items.len() as u64) as usize)),
        Some(n) => {
            let n = (n.max(0.0) as usize).min(items.len());
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                out.push(items.swap_remove(rng.below(items.len() as u64) as usize));
            }
            Ok(Value::Array(out))
        }
    }
}
