//! Rules for free text that crosses the API: counted in characters, and
//! free of control characters (PostgreSQL refuses NUL outright).

/// Why a piece of text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty after trimming.
    #[error("must not be empty")]
    Empty,
    /// Longer than allowed.
    #[error("must be at most {max} characters")]
    TooLong {
        /// The limit, in characters.
        max: usize,
    },
    /// Holds a control character (NUL, escape, …) or a lone line break.
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// A trimmed single-line text of 1..=`max` characters.
pub fn single_line(value: &str, max: usize) -> Result<String, TextError> {
    // Checked before trimming: `trim` also strips control characters that
    // count as white space (line feed, U+0085), which are refused anywhere.
    if value.chars().any(char::is_control) {
        return Err(TextError::ControlCharacter);
    }
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(TextError::Empty);
    }
    if trimmed.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        let emoji = "📰".repeat(10);
        let arabic = "خبر".repeat(3);

        assert_eq!(single_line(&emoji, 10), Ok(emoji.clone()));
        assert_eq!(single_line(&arabic, 9), Ok(arabic.clone()));
        assert_eq!(single_line(&emoji, 9), Err(TextError::TooLong { max: 9 }));
    }

    #[test]
    fn control_characters_and_blank_text_are_refused() {
        for bad in ["a\0b", "tab\there", "line\nbreak", "esc\u{1b}"] {
            assert_eq!(
                single_line(bad, 100),
                Err(TextError::ControlCharacter),
                "{bad:?}"
            );
        }
        assert_eq!(single_line("   ", 100), Err(TextError::Empty));
        assert_eq!(
            single_line("  The Daily Courier ", 100),
            Ok("The Daily Courier".to_owned())
        );
    }
}
