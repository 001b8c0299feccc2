//! A decimal that keeps its scale (`1.0` is not `1.00`), as FHIR and FHIRPath need.
//!
//! Mantissa `m` and scale `s` mean `m / 10^s`. Twenty-eight digits of scale are kept at
//! most; division yields eight decimal places, the minimum FHIRPath asks for.

use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    m: i128,
    s: u32,
    /// A zero written with a minus sign (`-0.0`), as `lowBoundary()` can yield; it
    /// equals zero and only shows in the text.
    negative_zero: bool,
}

const MAX_SCALE: u32 = 28;

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

impl Decimal {
    pub const ZERO: Decimal = Decimal {
        m: 0,
        s: 0,
        negative_zero: false,
    };

    /// `-0` at scale `s`.
    pub fn negative_zero(s: u32) -> Decimal {
        Decimal {
            m: 0,
            s,
            negative_zero: true,
        }
    }

    pub fn new(m: i128, s: u32) -> Decimal {
        Decimal {
            m,
            s,
            negative_zero: false,
        }
    }

    pub fn from_int(i: i64) -> Decimal {
        Decimal {
            m: i as i128,
            s: 0,
            negative_zero: false,
        }
    }

    /// Parses `-?digits(.digits)?` and also exponent forms found in JSON.
    pub fn parse(text: &str) -> Option<Decimal> {
        let text = text.trim();
        if let Some(i) = text.find(['e', 'E']) {
            let base = Decimal::parse(&text[..i])?;
            let exp: i32 = text[i + 1..].parse().ok()?;
            return if exp >= 0 {
                let f = pow10(exp as u32)?;
                let m = base.m.checked_mul(f)?;
                Some(
                    Decimal {
                        m,
                        s: base.s,
                        negative_zero: false,
                    }
                    .reduce_to(base.s),
                )
            } else {
                let s = base.s.checked_add(exp.unsigned_abs())?;
                (s <= MAX_SCALE).then_some(Decimal {
                    m: base.m,
                    s,
                    negative_zero: false,
                })
            };
        }
        let (neg, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (body.contains('.') && frac.is_empty())
            || frac.len() as u32 > MAX_SCALE
        {
            return None;
        }
        let mut m: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            m = m.checked_mul(10)?.checked_add((b - b'0') as i128)?;
        }
        Some(Decimal {
            m: if neg { -m } else { m },
            s: frac.len() as u32,
            negative_zero: false,
        })
    }

    pub fn scale(&self) -> u32 {
        self.s
    }

    pub fn is_zero(&self) -> bool {
        self.m == 0
    }

    pub fn is_negative(&self) -> bool {
        self.m < 0
    }

    /// Same value at scale `s` (only when `s >= self.s`, or exact).
    fn rescale_up(&self, s: u32) -> Option<Decimal> {
        if s < self.s {
            return None;
        }
        Some(Decimal {
            m: self.m.checked_mul(pow10(s - self.s)?)?,
            s,
            negative_zero: false,
        })
    }

    /// Keeps the scale no higher than `s` when the value is exactly representable.
    fn reduce_to(self, s: u32) -> Decimal {
        let mut d = self;
        while d.s > s && d.m % 10 == 0 {
            d.m /= 10;
            d.s -= 1;
        }
        d
    }

    /// Drops trailing zeros after the decimal point.
    pub fn normalized(&self) -> Decimal {
        self.reduce_to(0)
    }

    fn align(a: &Decimal, b: &Decimal) -> Option<(i128, i128, u32)> {
        let s = a.s.max(b.s);
        Some((a.rescale_up(s)?.m, b.rescale_up(s)?.m, s))
    }

    pub fn checked_add(&self, o: &Decimal) -> Option<Decimal> {
        let (a, b, s) = Decimal::align(self, o)?;
        Some(Decimal {
            m: a.checked_add(b)?,
            s,
            negative_zero: false,
        })
    }

    pub fn checked_sub(&self, o: &Decimal) -> Option<Decimal> {
        self.checked_add(&o.neg())
    }

    pub fn checked_mul(&self, o: &Decimal) -> Option<Decimal> {
        let d = Decimal {
            m: self.m.checked_mul(o.m)?,
            s: self.s + o.s,
            negative_zero: false,
        };
        Some(if d.s > MAX_SCALE {
            d.round(MAX_SCALE)
        } else {
            d
        })
    }

    /// Division to eight decimal places (or the operands' scale if larger), trailing
    /// zeros removed; `None` for division by zero or overflow.
    pub fn checked_div(&self, o: &Decimal) -> Option<Decimal> {
        if o.m == 0 {
            return None;
        }
        let target = 8u32.max(self.s).max(o.s).min(MAX_SCALE);
        // value = (a / 10^sa) / (b / 10^sb); result mantissa at scale target+1 for rounding.
        let shift = (target + 1 + o.s) as i64 - self.s as i64;
        let (num, den) = if shift >= 0 {
            (self.m.checked_mul(pow10(shift as u32)?)?, o.m)
        } else {
            (self.m, o.m.checked_mul(pow10((-shift) as u32)?)?)
        };
        let q = num.checked_div(den)?;
        let d = Decimal {
            m: q,
            s: target + 1,
            negative_zero: false,
        };
        Some(d.round(target).normalized())
    }

    pub fn neg(&self) -> Decimal {
        Decimal {
            m: self.m.saturating_neg(),
            s: self.s,
            negative_zero: false,
        }
    }

    pub fn abs(&self) -> Decimal {
        Decimal {
            m: self.m.saturating_abs(),
            s: self.s,
            negative_zero: false,
        }
    }

    /// Rounds half away from zero to `dp` places.
    pub fn round(&self, dp: u32) -> Decimal {
        if dp >= self.s {
            return self.rescale_up(dp).unwrap_or(*self);
        }
        let Some(f) = pow10(self.s - dp) else {
            return Decimal::ZERO;
        };
        let q = self.m / f;
        let r = (self.m % f).abs();
        let up = r * 2 >= f;
        let q = if up { q + self.m.signum() } else { q };
        Decimal {
            m: q,
            s: dp,
            negative_zero: false,
        }
    }

    /// Cuts to `dp` places toward zero.
    pub fn truncate(&self, dp: u32) -> Decimal {
        if dp >= self.s {
            return *self;
        }
        match pow10(self.s - dp) {
            Some(f) => Decimal {
                m: self.m / f,
                s: dp,
                negative_zero: false,
            },
            None => Decimal::ZERO,
        }
    }

    pub fn floor(&self) -> Decimal {
        let t = self.truncate(0);
        if self.m < 0 && t.checked_cmp(self) != Some(Ordering::Equal) {
            Decimal {
                m: t.m - 1,
                s: 0,
                negative_zero: false,
            }
        } else {
            t
        }
    }

    pub fn ceiling(&self) -> Decimal {
        let t = self.truncate(0);
        if self.m > 0 && t.checked_cmp(self) != Some(Ordering::Equal) {
            Decimal {
                m: t.m + 1,
                s: 0,
                negative_zero: false,
            }
        } else {
            t
        }
    }

    /// The integer part when it fits in an `i64` and the value has no fraction.
    pub fn to_i64_exact(&self) -> Option<i64> {
        let n = self.normalized();
        if n.s != 0 {
            return None;
        }
        i64::try_from(n.m).ok()
    }

    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    pub fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        let text = format!("{:.*}", 15, f);
        Decimal::parse(&text).map(|d| d.normalized())
    }

    pub fn checked_cmp(&self, o: &Decimal) -> Option<Ordering> {
        match Decimal::align(self, o) {
            Some((a, b, _)) => Some(a.cmp(&b)),
            None => self.to_f64().partial_cmp(&o.to_f64()),
        }
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.checked_cmp(other) == Some(Ordering::Equal)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.m.unsigned_abs().to_string();
        let sign = if self.m < 0 || (self.m == 0 && self.negative_zero) {
            "-"
        } else {
            ""
        };
        if self.s == 0 {
            return write!(f, "{sign}{digits}");
        }
        let s = self.s as usize;
        let padded = if digits.len() <= s {
            format!("{}{}", "0".repeat(s + 1 - digits.len()), digits)
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - s);
        write!(f, "{sign}{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn keeps_scale_and_compares_by_value() {
        assert_eq!(d("1.50").to_string(), "1.50");
        assert_eq!(d("-0.05").to_string(), "-0.05");
        assert_eq!(Decimal::negative_zero(1).to_string(), "-0.0");
        assert_eq!(Decimal::negative_zero(1), d("0.0"));
        assert_eq!(d("-0.0").to_string(), "0.0");
        assert_eq!(d("1.10"), d("1.1"));
        assert_ne!(d("1.1"), d("1.2"));
        assert_eq!(d("1e2").to_string(), "100");
        assert_eq!(d("1.5E-2").to_string(), "0.015");
        for bad in ["", "1.", ".5", "1.2.3", "a", "--1"] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn arithmetic() {
        assert_eq!(d("1.2").checked_add(&d("1.8")).unwrap().to_string(), "3.0");
        assert_eq!(d("2.0").checked_mul(&d("2.0")).unwrap().to_string(), "4.00");
        assert_eq!(
            d("1").checked_div(&d("3")).unwrap().to_string(),
            "0.33333333"
        );
        assert_eq!(d("4.0").checked_div(&d("2.0")).unwrap().to_string(), "2");
        assert!(d("1").checked_div(&d("0")).is_none());
    }

    #[test]
    fn rounding() {
        assert_eq!(d("3.14159").round(3).to_string(), "3.142");
        assert_eq!(d("-1.5").round(0).to_string(), "-2");
        assert_eq!(d("-1.5").floor().to_string(), "-2");
        assert_eq!(d("1.1").ceiling().to_string(), "2");
        assert_eq!(d("-1.9").truncate(0).to_string(), "-1");
        assert_eq!(d("2").to_i64_exact(), Some(2));
        assert_eq!(d("2.5").to_i64_exact(), None);
    }
}
