//! JSON written the way WireMock's Jackson writes it: its default pretty printer
//! (`"key" : value`, two-space indent, arrays inline as `[ 1, 2 ]`), used where
//! WireMock shows JSON to people (admin API, `jsonPath` results, not-matched reports).

use serde_json::Value;

/// Jackson's `DefaultPrettyPrinter` layout.
pub fn pretty(value: &Value) -> String {
    let mut out = String::new();
    write(value, 0, &mut out);
    out
}

fn scalar(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn write(value: &Value, depth: usize, out: &mut String) {
    match value {
        Value::Object(map) if map.is_empty() => out.push_str("{ }"),
        Value::Object(map) => {
            out.push('{');
            let inner = "  ".repeat(depth + 1);
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('\n');
                out.push_str(&inner);
                out.push_str(&scalar(&Value::String(k.clone())));
                out.push_str(" : ");
                write(v, depth + 1, out);
            }
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
            out.push('}');
        }
        Value::Array(items) if items.is_empty() => out.push_str("[ ]"),
        Value::Array(items) => {
            out.push_str("[ ");
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(v, depth, out);
            }
            out.push_str(" ]");
        }
        other => out.push_str(&scalar(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lays_out_as_jackson_does() {
        let v = json!({"a": 1, "b": [1, 2], "c": {"d": "e"}, "e": [{"x": 1}], "f": {}, "g": []});
        assert_eq!(
            pretty(&v),
            "{\n  \"a\" : 1,\n  \"b\" : [ 1, 2 ],\n  \"c\" : {\n    \"d\" : \"e\"\n  },\n  \"e\" : [ {\n    \"x\" : 1\n  } ],\n  \"f\" : { },\n  \"g\" : [ ]\n}"
        );
    }
}
