//! Comparing personal names, for the speaker stage and the output's speaker filter.

/// The longest word compared by edit distance.
const MAX_NAME_BYTES: usize = 64;

/// "Sergey" and "Sergei": short edit distance, same first letter.
pub fn spelling_variant(left: &str, right: &str) -> bool {
    if left.chars().next() != right.chars().next() {
        return false;
    }
    // A first name is a short word; longer "names" (text without spaces) would make the edit
    // distance quadratic, and only an exact match can make them the same name.
    if left.len() > MAX_NAME_BYTES || right.len() > MAX_NAME_BYTES {
        return left == right;
    }
    let left: Vec<char> = left.chars().collect();
    let right: Vec<char> = right.chars().collect();
    if left.len().abs_diff(right.len()) > 2 {
        return false;
    }
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, &left_char) in left.iter().enumerate() {
        let mut current = vec![i + 1; right.len() + 1];
        for (j, &right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != right_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[right.len()] <= 2.min(left.len() / 3 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_variants_match() {
        assert!(spelling_variant("sergey", "sergei"));
        assert!(!spelling_variant("bill", "hillary"));
    }

    #[test]
    fn long_words_are_compared_exactly_and_quickly() {
        let long = "a".repeat(1_000_000);
        let other = format!("{}b", "a".repeat(999_999));
        assert!(!spelling_variant(&long, &other));
        assert!(spelling_variant(&long, &long.clone()));
    }
}
