//! Converts byte offsets of a Rust string into the code-point offsets that the output uses.

/// Maps byte offsets of one text to code-point offsets, in O(log n) per lookup and memory
/// proportional to the number of non-ASCII characters (zero for ASCII text).
#[derive(Debug, Clone)]
pub struct CharIndex {
    /// For each multi-byte character: its byte offset, and the extra bytes of all multi-byte
    /// characters up to and including it.
    multibyte: Vec<(usize, usize)>,
    len_bytes: usize,
}

impl CharIndex {
    pub fn new(text: &str) -> Self {
        let mut multibyte = Vec::new();
        let mut extra = 0;
        if !text.is_ascii() {
            for (at, ch) in text.char_indices() {
                let width = ch.len_utf8();
                if width > 1 {
                    extra += width - 1;
                    multibyte.push((at, extra));
                }
            }
        }
        CharIndex {
            multibyte,
            len_bytes: text.len(),
        }
    }

    /// The code-point offset of byte offset `byte`, which must lie on a character boundary.
    pub fn char_offset(&self, byte: usize) -> usize {
        let byte = byte.min(self.len_bytes);
        // Characters starting strictly before `byte` contribute their extra bytes.
        let before = self.multibyte.partition_point(|&(at, _)| at < byte);
        let extra = if before == 0 {
            0
        } else {
            self.multibyte[before - 1].1
        };
        byte - extra
    }
}

/// The byte offsets of some code-point offsets into `text`, in one pass over the text; an
/// offset past the end maps to the text's length.
pub fn byte_offsets(text: &str, char_offsets: &[usize]) -> Vec<usize> {
    if text.is_ascii() {
        return char_offsets
            .iter()
            .map(|&offset| offset.min(text.len()))
            .collect();
    }
    let mut order: Vec<usize> = (0..char_offsets.len()).collect();
    order.sort_by_key(|&index| char_offsets[index]);
    let mut bytes = vec![text.len(); char_offsets.len()];
    let mut next = 0;
    for (chars, (byte, _)) in text.char_indices().enumerate() {
        while next < order.len() && char_offsets[order[next]] <= chars {
            bytes[order[next]] = byte;
            next += 1;
        }
        if next == order.len() {
            break;
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_invert_char_offsets() {
        let text = "a“b”c😀d";
        let index = CharIndex::new(text);
        let chars: Vec<usize> = (0..=text.chars().count()).rev().collect();
        for (byte, chars) in byte_offsets(text, &chars).into_iter().zip(chars) {
            assert!(text.is_char_boundary(byte));
            assert_eq!(index.char_offset(byte), chars);
        }
        assert_eq!(byte_offsets("abc", &[1, 9]), vec![1, 3]);
    }

    #[test]
    fn ascii_offsets_are_identity() {
        let index = CharIndex::new("hello world");
        assert_eq!(index.char_offset(0), 0);
        assert_eq!(index.char_offset(5), 5);
        assert_eq!(index.char_offset(11), 11);
    }

    #[test]
    fn multibyte_offsets_count_code_points() {
        let text = "a“b”c😀d";
        let index = CharIndex::new(text);
        for (chars, (bytes, _)) in text.char_indices().enumerate() {
            assert_eq!(index.char_offset(bytes), chars);
        }
        assert_eq!(index.char_offset(text.len()), text.chars().count());
    }
}
