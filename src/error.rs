//! Error helpers shared by the modules: each module keeps its own error type.

/// An error and its causes on one line, for logs and messages: drivers and clients often put
/// the useful part ("connection refused") in a source, not in their own text.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_follow_the_error_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let outer = std::io::Error::other(io);
        assert_eq!(chain(&outer), "connection refused");
        let wrapped = anyhow::Error::new(std::io::Error::other("inner")).context("outer");
        assert_eq!(chain(wrapped.as_ref()), "outer: inner");
    }
}
