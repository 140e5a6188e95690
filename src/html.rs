//! Escaping for HTML, shared by the rendered pages and the eval report.

/// Appends `text` escaped for HTML text and for attribute values in either quote. Control
/// characters other than tab and line ends are not allowed in HTML; they become U+FFFD, one for
/// one, so the page still shows where they were.
pub fn push_escaped(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(character),
            control if control.is_control() => out.push('\u{FFFD}'),
            other => out.push(other),
        }
    }
}

/// `text` escaped for HTML text and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

/// JSON that is safe inside a `<script>` element: no `</script>` or `<!--` can end or change
/// the element, and U+2028/U+2029 (line ends to old JavaScript parsers) are escaped. The
/// characters replaced can only occur inside JSON strings, where the escapes mean the same.
pub fn json_for_script(value: &impl serde::Serialize) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    let mut out = String::with_capacity(json.len());
    for character in json.chars() {
        match character {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_makes_markup_inert() {
        assert_eq!(
            escape_html(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(
            escape_html("a\u{0}b\u{7}\tc\r\n“é😀”"),
            "a\u{FFFD}b\u{FFFD}\tc\r\n“é😀”"
        );
        assert_eq!(escape_html(""), "");
    }

    #[test]
    fn json_in_script_cannot_end_the_script() {
        let value = serde_json::json!({"id": "</script><!-- & \u{2028}\u{2029} -->"});
        let json = json_for_script(&value);
        assert!(
            !json.contains(['<', '>', '&', '\u{2028}', '\u{2029}']),
            "{json}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, value);
    }
}
