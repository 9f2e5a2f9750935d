//! Captured requests as `hookseal verify` reads them: `Name: value` lines, after an optional
//! request line such as `POST /hooks/crm HTTP/1.1`; blank lines are skipped.

use http::{HeaderMap, HeaderName, HeaderValue};

/// A captured request's head.
#[derive(Debug, Default)]
pub struct CapturedHead {
    /// The target of the request line, if there was one (a URL or a path).
    pub target: Option<String>,
    /// The headers, in order.
    pub headers: HeaderMap,
}

/// A line of a captured request that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct RequestFileError {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Reads a captured request head.
///
/// # Errors
/// A line is neither a request line (first only) nor `Name: value` with a valid name and value.
pub fn parse(text: &str) -> Result<CapturedHead, RequestFileError> {
    let mut head = CapturedHead::default();
    let mut seen_any = false;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let first = !std::mem::replace(&mut seen_any, true);
        if first && is_request_line(line) {
            head.target = line.split_whitespace().nth(1).map(str::to_owned);
            continue;
        }
        let (name, value) = header_line(line).map_err(|reason| RequestFileError {
            line: index + 1,
            reason,
        })?;
        head.headers.append(name, value);
    }
    Ok(head)
}

fn is_request_line(line: &str) -> bool {
    let parts: Vec<&str> = line.split_whitespace().collect();
    parts.len() == 3 && parts[2].starts_with("HTTP/") && !parts[0].ends_with(':')
}

fn header_line(line: &str) -> Result<(HeaderName, HeaderValue), &'static str> {
    let Some((name, value)) = line.split_once(':') else {
        return Err("not `Name: value`");
    };
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| "not a header name")?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| "not a valid header value")?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_request_line_headers_and_skips_blanks() {
        let text = "POST https://x.example/hook?a=1 HTTP/1.1\r\nWebhook-Id: msg_1\r\n\r\n\
                    content-type: application/json\nX-Empty:\n";
        let head = parse(text).expect("valid head");
        assert_eq!(head.target.as_deref(), Some("https://x.example/hook?a=1"));
        assert_eq!(head.headers["webhook-id"], "msg_1");
        assert_eq!(head.headers["content-type"], "application/json");
        assert_eq!(head.headers["x-empty"], "");
    }

    #[test]
    fn names_the_bad_line() {
        let err = parse("webhook-id: a\nno colon here\n").expect_err("bad line");
        assert_eq!(err.line, 2);
        let err = parse("bad name: a\n").expect_err("space in name");
        assert_eq!(err.reason, "not a header name");
    }

    #[test]
    fn a_request_line_is_only_read_first() {
        assert!(parse("a: b\nPOST /x HTTP/1.1\n").is_err());
    }
}
