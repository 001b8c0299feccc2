//! Quantities: a decimal with a UCUM unit or a calendar duration keyword, and enough
//! of UCUM (prefixes, products, quotients, exponents, the units FHIR core uses) to
//! compare and convert them.

use super::decimal::Decimal;
use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub value: Decimal,
    /// A UCUM code, or a calendar keyword (`year` .. `millisecond`) in singular form.
    pub unit: String,
}

pub const CALENDAR: [&str; 8] = [
    "year",
    "month",
    "week",
    "day",
    "hour",
    "minute",
    "second",
    "millisecond",
];

/// Singular calendar keyword for a word that names one (`days` -> `day`).
pub fn calendar_word(word: &str) -> Option<&'static str> {
    let singular = word.strip_suffix('s').unwrap_or(word);
    CALENDAR.iter().copied().find(|c| *c == singular)
}

/// The UCUM unit a calendar keyword stands for when it is a definite duration.
fn calendar_ucum(word: &str) -> Option<&'static str> {
    Some(match word {
        "week" => "wk",
        "day" => "d",
        "hour" => "h",
        "minute" => "min",
        "second" => "s",
        "millisecond" => "ms",
        _ => return None,
    })
}

/// Dimensions: m, g, s, K, C, cd, mol, rad, and an arbitrary-unit slot.
type Dims = [i8; 9];

#[derive(Debug, Clone, PartialEq)]
struct Canon {
    factor: Decimal,
    dims: Dims,
}

fn dims(i: usize) -> Dims {
    let mut d = [0; 9];
    d[i] = 1;
    d
}

/// Atoms: code, factor to base, and the definition of that base as a unit expression
/// (or a base-dimension index). Factors are exact decimals so conversions stay exact.
const ATOMS: &[(&str, &str, &str)] = &[
    ("m", "1", "#0"),
    ("g", "1", "#1"),
    ("s", "1", "#2"),
    ("K", "1", "#3"),
    ("C", "1", "#4"),
    ("cd", "1", "#5"),
    ("mol", "1", "#6"),
    ("rad", "1", "#7"),
    ("[iU]", "1", "#8"),
    ("[IU]", "1", "#8"),
    ("U", "1", "umol/min"),
    ("kat", "1", "mol/s"),
    ("eq", "1", "mol"),
    ("osm", "1", "mol"),
    ("1", "1", ""),
    ("%", "0.01", ""),
    ("[ppm]", "0.000001", ""),
    ("[ppb]", "0.000000001", ""),
    ("[pi]", "3.14159265358979323846", ""),
    ("deg", "0.01745329251994329577", "rad"),
    ("sr", "1", "rad2"),
    ("min", "60", "s"),
    ("h", "3600", "s"),
    ("d", "86400", "s"),
    ("wk", "604800", "s"),
    ("mo", "2629800", "s"),
    ("a", "31557600", "s"),
    ("Hz", "1", "s-1"),
    ("L", "0.001", "m3"),
    ("l", "0.001", "m3"),
    ("N", "1000", "g.m/s2"),
    ("Pa", "1", "N/m2"),
    ("bar", "100000", "Pa"),
    ("atm", "101325", "Pa"),
    ("J", "1", "N.m"),
    ("W", "1", "J/s"),
    ("A", "1", "C/s"),
    ("V", "1", "J/C"),
    ("Ohm", "1", "V/A"),
    ("cal", "4.184", "J"),
    ("[Cal]", "4184", "J"),
    ("t", "1000000", "g"),
    ("u", "0.00000000000000000000000166054", "g"),
    ("[in_i]", "0.0254", "m"),
    ("[ft_i]", "0.3048", "m"),
    ("[yd_i]", "0.9144", "m"),
    ("[mi_i]", "1609.344", "m"),
    ("[lb_av]", "453.59237", "g"),
    ("[oz_av]", "28.349523125", "g"),
    ("[gr]", "0.06479891", "g"),
    ("[stone_av]", "6350.29318", "g"),
    ("[degF]", "0.5555555555555555556", "K"),
    ("Cel", "1", "K"),
    ("mm[Hg]", "133.322", "Pa"),
    ("cm[H2O]", "98.0665", "Pa"),
    ("[pH]", "1", ""),
    ("[drp]", "0.00000005", "m3"),
    ("[foz_us]", "0.0000295735295625", "m3"),
    ("[gal_us]", "0.003785411784", "m3"),
    ("[pt_us]", "0.000473176473", "m3"),
    ("[qt_us]", "0.000946352946", "m3"),
    ("[tsp_us]", "0.00000492892159375", "m3"),
    ("[tbs_us]", "0.0000147867647812", "m3"),
    ("[cup_us]", "0.0002365882365", "m3"),
    ("[hp]", "745.6999", "W"),
    ("Bq", "1", "s-1"),
    ("Gy", "1", "J/kg"),
    ("Sv", "1", "J/kg"),
    ("[CFU]", "1", "#8"),
    ("[arb'U]", "1", "#8"),
    ("{beats}", "1", ""),
];

const PREFIXES: &[(&str, i32)] = &[
    ("da", 1),
    ("Y", 24),
    ("Z", 21),
    ("E", 18),
    ("P", 15),
    ("T", 12),
    ("G", 9),
    ("M", 6),
    ("k", 3),
    ("h", 2),
    ("d", -1),
    ("c", -2),
    ("m", -3),
    ("u", -6),
    ("n", -9),
    ("p", -12),
    ("f", -15),
    ("a", -18),
    ("z", -21),
    ("y", -24),
];

fn pow10_dec(e: i32) -> Option<Decimal> {
    if e.abs() > 28 {
        return None;
    }
    Some(if e >= 0 {
        Decimal::new(10i128.checked_pow(e as u32)?, 0)
    } else {
        Decimal::new(1, (-e) as u32)
    })
}

fn canon_atom(code: &str, depth: u8) -> Option<Canon> {
    let (_, factor, def) = ATOMS.iter().find(|(c, _, _)| *c == code)?;
    let factor = Decimal::parse(factor)?;
    let base = if let Some(i) = def.strip_prefix('#') {
        Canon {
            factor: Decimal::from_int(1),
            dims: dims(i.parse().ok()?),
        }
    } else {
        canon_expr(def, depth + 1)?
    };
    Some(Canon {
        factor: factor.checked_mul(&base.factor)?,
        dims: base.dims,
    })
}

/// One unit symbol, maybe prefixed, with an optional integer exponent.
fn canon_component(text: &str, depth: u8) -> Option<Canon> {
    // Annotations `{...}` alone mean 1; attached to a unit they are ignored.
    let mut body = text.to_string();
    while let Some(open) = body.find('{') {
        let close = body[open..].find('}')? + open;
        body.replace_range(open..=close, "");
    }
    if body.is_empty() {
        return Some(Canon {
            factor: Decimal::from_int(1),
            dims: [0; 9],
        });
    }
    if body.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Canon {
            factor: Decimal::parse(&body)?,
            dims: [0; 9],
        });
    }
    if let Some((base, exp)) = body.split_once("10*").filter(|(b, _)| b.is_empty()) {
        let _ = base;
        let e: i32 = exp.parse().ok()?;
        return Some(Canon {
            factor: pow10_dec(e)?,
            dims: [0; 9],
        });
    }
    // After the last character of the symbol, which may take several bytes.
    let split = body
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '-' || c == '+'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let (sym, exp) = body.split_at(split);
    let exp: i32 = if exp.is_empty() { 1 } else { exp.parse().ok()? };
    let unit = canon_atom(sym, depth).or_else(|| {
        PREFIXES.iter().find_map(|(p, e)| {
            let rest = sym.strip_prefix(p)?;
            let atom = canon_atom(rest, depth)?;
            Some(Canon {
                factor: atom.factor.checked_mul(&pow10_dec(*e)?)?,
                dims: atom.dims,
            })
        })
    })?;
    power(&unit, exp)
}

fn power(c: &Canon, exp: i32) -> Option<Canon> {
    // No real unit has a larger exponent; this also bounds the loop below.
    if exp.abs() > 12 {
        return None;
    }
    let mut factor = Decimal::from_int(1);
    for _ in 0..exp.unsigned_abs() {
        factor = factor.checked_mul(&c.factor)?;
    }
    if exp < 0 {
        factor = Decimal::from_int(1).checked_div(&factor)?;
    }
    let mut dims = c.dims;
    for d in dims.iter_mut() {
        *d = d.checked_mul(exp as i8)?;
    }
    Some(Canon { factor, dims })
}

fn combine(a: &Canon, b: &Canon, divide: bool) -> Option<Canon> {
    let factor = if divide {
        a.factor.checked_div(&b.factor)?
    } else {
        a.factor.checked_mul(&b.factor)?
    };
    let mut dims = a.dims;
    for (d, e) in dims.iter_mut().zip(b.dims) {
        *d = if divide {
            d.checked_sub(e)?
        } else {
            d.checked_add(e)?
        };
    }
    Some(Canon { factor, dims })
}

/// Parses a UCUM expression: components joined by `.` and `/`, with parentheses.
fn canon_expr(text: &str, depth: u8) -> Option<Canon> {
    if depth > 8 || text.len() > 200 {
        return None;
    }
    let mut acc = Canon {
        factor: Decimal::from_int(1),
        dims: [0; 9],
    };
    let bytes = text.as_bytes();
    let (mut i, mut divide) = (0, false);
    if bytes.first() == Some(&b'/') {
        (i, divide) = (1, true);
    }
    if text.is_empty() {
        return Some(acc);
    }
    loop {
        let start = i;
        let mut level = 0i32;
        while i < bytes.len() {
            match bytes[i] {
                b'(' | b'[' | b'{' => level += 1,
                b')' | b']' | b'}' => level -= 1,
                b'.' | b'/' if level == 0 => break,
                _ => {}
            }
            i += 1;
        }
        let part = &text[start..i];
        let term = if let Some(inner) = part.strip_prefix('(').and_then(|p| p.strip_suffix(')')) {
            canon_expr(inner, depth + 1)?
        } else {
            canon_component(part, depth)?
        };
        acc = combine(&acc, &term, divide)?;
        if i >= bytes.len() {
            return Some(acc);
        }
        divide = bytes[i] == b'/';
        i += 1;
    }
}

/// Whether `unit` is a UCUM unit this engine understands.
pub fn is_valid_ucum(unit: &str) -> bool {
    canon_expr(unit, 0).is_some()
}

impl Quantity {
    pub fn new(value: Decimal, unit: impl Into<String>) -> Quantity {
        Quantity {
            value,
            unit: unit.into(),
        }
    }

    pub fn is_calendar(&self) -> bool {
        CALENDAR.contains(&self.unit.as_str())
    }

    /// The UCUM form, when there is one (`year` and `month` have none).
    fn ucum(&self) -> Option<&str> {
        if self.is_calendar() {
            calendar_ucum(&self.unit)
        } else {
            Some(&self.unit)
        }
    }

    fn canon(&self) -> Option<(Decimal, Dims)> {
        let c = canon_expr(self.ucum()?, 0)?;
        Some((self.value.checked_mul(&c.factor)?, c.dims))
    }

    /// Orders two quantities when their units are comparable.
    pub fn compare(&self, other: &Quantity) -> Option<Ordering> {
        if self.unit == other.unit {
            return self.value.checked_cmp(&other.value);
        }
        // Calendar years and months compare only with each other.
        let months = |q: &Quantity| match q.unit.as_str() {
            "year" => q.value.checked_mul(&Decimal::from_int(12)),
            "month" => Some(q.value),
            _ => None,
        };
        match (months(self), months(other)) {
            (Some(a), Some(b)) => return a.checked_cmp(&b),
            (None, None) => {}
            _ => return None,
        }
        let (a, da) = self.canon()?;
        let (b, db) = other.canon()?;
        (da == db).then(|| a.checked_cmp(&b)).flatten()
    }

    /// Equal after conversion, with `a` and `b` rounded to the coarser scale first for
    /// equivalence (`~`).
    pub fn equivalent(&self, other: &Quantity) -> Option<bool> {
        let (a, da) = self.canon()?;
        let (b, db) = other.canon()?;
        if da != db {
            return Some(false);
        }
        let s = self.value.scale().min(other.value.scale());
        Some(a.round(s) == b.round(s))
    }

    pub fn comparable(&self, other: &Quantity) -> bool {
        self.compare(other).is_some()
            || matches!((self.canon(), other.canon()), (Some(a), Some(b)) if a.1 == b.1)
    }

    pub fn multiply(&self, other: &Quantity) -> Option<Quantity> {
        let unit = join_units(self.ucum()?, other.ucum()?, '.');
        Some(Quantity::new(self.value.checked_mul(&other.value)?, unit))
    }

    pub fn divide(&self, other: &Quantity) -> Option<Quantity> {
        let unit = join_units(self.ucum()?, other.ucum()?, '/');
        Some(Quantity::new(self.value.checked_div(&other.value)?, unit))
    }

    /// Converts to `unit` when dimensions agree.
    pub fn convert(&self, unit: &str) -> Option<Quantity> {
        let (v, d) = self.canon()?;
        let target = canon_expr(unit, 0)?;
        if d != target.dims {
            return None;
        }
        Some(Quantity::new(v.checked_div(&target.factor)?, unit))
    }

    /// Adds when units agree or convert; `None` otherwise.
    pub fn add(&self, other: &Quantity, negate: bool) -> Option<Quantity> {
        let o = if self.unit == other.unit {
            other.clone()
        } else {
            other.convert(self.ucum()?)?
        };
        let o = if negate { o.value.neg() } else { o.value };
        Some(Quantity::new(
            self.value.checked_add(&o)?,
            self.unit.clone(),
        ))
    }
}

fn join_units(a: &str, b: &str, op: char) -> String {
    let wrap = |u: &str| {
        if u.contains(['.', '/']) {
            format!("({u})")
        } else {
            u.to_string()
        }
    };
    match (a, b, op) {
        ("1", _, '.') => b.to_string(),
        (_, "1", _) => a.to_string(),
        _ => format!("{}{op}{}", wrap(a), wrap(b)),
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_calendar() {
            write!(f, "{} {}", self.value, self.unit)
        } else {
            write!(f, "{} '{}'", self.value, self.unit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(v: &str, u: &str) -> Quantity {
        Quantity::new(Decimal::parse(v).unwrap(), u)
    }

    #[test]
    fn converts_ucum_units() {
        assert_eq!(
            q("4.0000", "g").compare(&q("4000.0", "mg")),
            Some(Ordering::Equal)
        );
        assert_eq!(q("4", "g").compare(&q("4040", "mg")), Some(Ordering::Less));
        assert_eq!(q("7", "day").compare(&q("1", "wk")), Some(Ordering::Equal));
        let area = q("2.0", "cm").multiply(&q("2.0", "m")).unwrap();
        assert_eq!(area.compare(&q("0.040", "m2")), Some(Ordering::Equal));
        let ratio = q("1.0", "m").divide(&q("1.0", "m")).unwrap();
        assert_eq!(ratio.compare(&q("1", "1")), Some(Ordering::Equal));
        assert_eq!(
            q("185", "[lb_av]").compare(&q("83.91", "kg")),
            Some(Ordering::Greater)
        );
        assert_eq!(
            q("1", "mg/dL").compare(&q("10", "mg/L")),
            Some(Ordering::Equal)
        );
    }

    #[test]
    fn incomparable_units() {
        assert_eq!(q("1", "cm").compare(&q("1", "s")), None);
        assert_eq!(q("1", "year").compare(&q("1", "a")), None);
        assert_eq!(
            q("1", "year").compare(&q("12", "month")),
            Some(Ordering::Equal)
        );
        assert!(!q("1", "cm").comparable(&q("1", "[s]")));
        assert!(q("1", "cm").comparable(&q("1", "[in_i]")));
        assert!(!is_valid_ucum("[s]"));
        assert!(is_valid_ucum("mm[Hg]"));
        assert!(is_valid_ucum("10*3/uL"));
        assert!(is_valid_ucum("{score}"));
        // Characters of several bytes before an exponent or alone: not units, and no
        // panic (a damaged example found it).
        for unit in ["\u{FFFD}", "m\u{00B2}", "\u{00B5}g2", "mg/\u{FFFD}3"] {
            assert!(!is_valid_ucum(unit), "{unit}");
        }
        assert_eq!(q("1", "\u{FFFD}").compare(&q("1", "m")), None);
    }

    #[test]
    fn renders() {
        assert_eq!(q("1", "wk").to_string(), "1 'wk'");
        assert_eq!(q("1", "week").to_string(), "1 week");
        assert_eq!(calendar_word("days"), Some("day"));
        assert_eq!(calendar_word("wk"), None);
    }
}
