//! Math functions on integers, decimals and quantities.

use super::{as_dec, one, opt, Call, R};
use crate::fhirpath::decimal::Decimal;
use crate::fhirpath::value::{Collection, Value};

fn from_f64<'a>(f: f64) -> R<Collection<'a>> {
    opt(Decimal::from_f64(f).map(Value::Decimal))
}

pub fn call<'a>(c: &Call<'_, 'a>) -> R<Option<Collection<'a>>> {
    const NAMES: [&str; 10] = [
        "abs", "ceiling", "exp", "floor", "ln", "log", "power", "round", "sqrt", "truncate",
    ];
    if !NAMES.contains(&c.name) {
        return Ok(None);
    }
    let Some(v) = c.input_value()? else {
        return Ok(Some(vec![]));
    };
    if let Value::Quantity(q) = &v {
        if c.name == "abs" {
            let mut q = q.clone();
            q.value = q.value.abs();
            return one(Value::Quantity(q)).map(Some);
        }
    }
    if !matches!(v, Value::Integer(_) | Value::Decimal(_)) {
        return Err(c.err(format!(
            "`{}` needs a number, not {}",
            c.name,
            v.type_name()
        )));
    }
    let d = as_dec(&v);
    let f = d.to_f64();
    let int = |d: Decimal| -> R<Collection<'a>> {
        match d.to_i64_exact() {
            Some(i) => one(Value::Integer(i)),
            None => one(Value::Decimal(d)),
        }
    };
    let r = match c.name {
        "abs" => match v {
            Value::Integer(i) => one(Value::Integer(
                i.checked_abs().ok_or_else(|| c.err("overflow"))?,
            )),
            _ => one(Value::Decimal(d.abs())),
        },
        "ceiling" => int(d.ceiling()),
        "floor" => int(d.floor()),
        "truncate" => int(d.truncate(0)),
        "round" => {
            let dp = c.arg_int(0)?.unwrap_or(0);
            if dp < 0 {
                return Err(c.err("round() precision must not be negative"));
            }
            one(Value::Decimal(d.round(dp.min(28) as u32)))
        }
        "exp" => from_f64(f.exp()),
        "ln" if f > 0.0 => from_f64(f.ln()),
        "ln" => Ok(vec![]),
        "sqrt" if f >= 0.0 => {
            let r = f.sqrt();
            from_f64(r)
        }
        "sqrt" => Ok(vec![]),
        "log" => {
            let Some(base) = c.arg_value(0)? else {
                return Ok(Some(vec![]));
            };
            let b = as_dec(&base).to_f64();
            if f <= 0.0 || b <= 0.0 || b == 1.0 {
                return Ok(Some(vec![]));
            }
            from_f64(f.ln() / b.ln())
        }
        "power" => {
            let Some(exp) = c.arg_value(0)? else {
                return Ok(Some(vec![]));
            };
            match (&v, &exp) {
                (Value::Integer(b), Value::Integer(e)) if *e >= 0 => {
                    let e = u32::try_from(*e).map_err(|_| c.err("exponent too large"))?;
                    opt(b.checked_pow(e).map(Value::Integer))
                }
                _ => {
                    let r = f.powf(as_dec(&exp).to_f64());
                    if r.is_nan() {
                        Ok(vec![])
                    } else {
                        from_f64(r)
                    }
                }
            }
        }
        _ => return Ok(None),
    };
    r.map(Some)
}
