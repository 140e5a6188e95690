//! One loader for every model file in `models/`.
//!
//! A model file is a JSON object that opens with the same four fields whatever the model:
//! `format` (which model it is), `version` (of that format), `provenance` (what it was trained
//! on, and the command that rebuilds it) and `features` (the names of the features it reads, in
//! order). The loader checks all four against what this build of whosaid computes, then the
//! model's own shapes, and gives every model the same errors for a missing or mismatched file.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};

/// The words before the command in every provenance.
pub const REBUILD_WITH: &str = "rebuild with: ";

/// A model that lives in a file.
pub trait ModelFile: Serialize + DeserializeOwned {
    /// The format's name, as the file writes it: `whosaid-cue-model`, say.
    const FORMAT: &'static str;
    /// The format's version; a file of another version is refused.
    const VERSION: u32;

    /// The feature names this build computes for the model, in order.
    fn expected_features() -> Vec<String>;

    fn format(&self) -> &str;
    fn version(&self) -> u32;
    fn provenance(&self) -> &str;
    fn features(&self) -> &[String];

    /// Whether a model that reads `features` can run in this build: by default, only one that
    /// reads exactly [`ModelFile::expected_features`], in order.
    fn reads_known_features(features: &[String]) -> bool {
        features == Self::expected_features().as_slice()
    }

    /// Checks the model's own fields (their shapes), beyond the common header.
    fn validate(&self) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// The four header accessors of [`ModelFile`] for a model whose struct holds them as fields of
/// the same names (`format`, `version`, `provenance`, `features`); invoked inside the impl.
macro_rules! header_fields {
    () => {
        fn format(&self) -> &str {
            &self.format
        }

        fn version(&self) -> u32 {
            self.version
        }

        fn provenance(&self) -> &str {
            &self.provenance
        }

        fn features(&self) -> &[String] {
            &self.features
        }
    };
}
pub(crate) use header_fields;

/// Reads and checks a model file.
pub fn load<M: ModelFile>(path: &Path) -> Result<M> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        Error::model(
            path,
            format!(
                "cannot read the {} file: {error}",
                M::FORMAT.trim_start_matches("whosaid-")
            ),
        )
    })?;
    parse(&text, path)
}

/// Parses and checks a model from its JSON; `path` names it in errors.
pub fn parse<M: ModelFile>(json: &str, path: &Path) -> Result<M> {
    let header: Header = serde_json::from_str(json)
        .map_err(|error| Error::model(path, format!("not a whosaid model file: {error}")))?;
    if header.format.as_deref() != Some(M::FORMAT) {
        return Err(Error::model(
            path,
            format!(
                "is {}, not {} (its \"format\" field)",
                header.format.as_deref().map_or_else(
                    || "a file with no format".to_string(),
                    |format| format!("a {format} file")
                ),
                M::FORMAT
            ),
        ));
    }
    if header.version != Some(M::VERSION) {
        return Err(Error::model(
            path,
            format!(
                "is version {} of {}; this whosaid reads version {}{}",
                header
                    .version
                    .map_or_else(|| "(none)".to_string(), |version| version.to_string()),
                M::FORMAT,
                M::VERSION,
                rebuild_hint(header.provenance.as_deref())
            ),
        ));
    }
    let model: M = serde_json::from_str(json).map_err(|error| Error::model(path, error))?;
    if !model.provenance().contains(REBUILD_WITH) {
        return Err(Error::model(
            path,
            format!("its provenance does not say how to rebuild it (no \"{REBUILD_WITH}…\")"),
        ));
    }
    let expected = M::expected_features();
    if !M::reads_known_features(model.features()) {
        return Err(Error::model(
            path,
            format!(
                "its features ({}) do not match this whosaid's ({}){}",
                model.features().join(", "),
                expected.join(", "),
                rebuild_hint(Some(model.provenance()))
            ),
        ));
    }
    model
        .validate()
        .map_err(|message| Error::model(path, message))?;
    Ok(model)
}

/// Writes a model file; `pretty` for files people read (small models), compact otherwise.
pub fn save<M: ModelFile>(model: &M, path: &Path, pretty: bool) -> Result<()> {
    let json = if pretty {
        serde_json::to_string_pretty(model)
    } else {
        serde_json::to_string(model)
    }
    .map_err(|error| Error::model(path, error))?;
    std::fs::write(path, json + "\n").map_err(|source| Error::io(path, source))
}

/// The provenance of a model trained on `data` by `command`.
pub fn provenance(data: &str, command: &str) -> String {
    format!("{data}; {REBUILD_WITH}{command}")
}

/// The command that rebuilds a model, from its provenance.
pub fn rebuild_command(provenance: &str) -> Option<&str> {
    provenance
        .rfind(REBUILD_WITH)
        .map(|at| &provenance[at + REBUILD_WITH.len()..])
}

fn rebuild_hint(provenance: Option<&str>) -> String {
    provenance
        .and_then(rebuild_command)
        .map(|command| format!("; rebuild it with: {command}"))
        .unwrap_or_default()
}

/// The common fields, read before the model itself so that a file of another format or version
/// gets a clear error rather than a parse error about some field.
#[derive(serde::Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<u32>,
    provenance: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, serde::Deserialize)]
    struct Toy {
        format: String,
        version: u32,
        provenance: String,
        features: Vec<String>,
        weights: Vec<f32>,
    }

    impl ModelFile for Toy {
        const FORMAT: &'static str = "whosaid-toy";
        const VERSION: u32 = 2;

        fn expected_features() -> Vec<String> {
            vec!["a".into(), "b".into()]
        }
        header_fields!();
        fn validate(&self) -> std::result::Result<(), String> {
            (self.weights.len() == self.features.len())
                .then_some(())
                .ok_or_else(|| "one weight per feature".into())
        }
    }

    fn toy() -> Toy {
        Toy {
            format: "whosaid-toy".into(),
            version: 2,
            provenance: provenance("toy data", "whosaid train toy"),
            features: vec!["a".into(), "b".into()],
            weights: vec![0.5, -1.0],
        }
    }

    fn error_of(json: &str) -> String {
        parse::<Toy>(json, Path::new("models/toy.json"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_model_round_trips_and_names_its_rebuild_command() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("toy.json");
        save(&toy(), &path, true).unwrap();
        let loaded: Toy = load(&path).unwrap();
        assert_eq!(loaded.weights, [0.5, -1.0]);
        assert_eq!(
            rebuild_command(&loaded.provenance),
            Some("whosaid train toy")
        );
    }

    #[test]
    fn every_mismatch_is_an_error_naming_the_file_and_the_problem() {
        let mut json = serde_json::to_value(toy()).unwrap();
        json["format"] = "whosaid-other".into();
        let message = error_of(&json.to_string());
        assert!(
            message.contains("models/toy.json") && message.contains("whosaid-other"),
            "{message}"
        );

        let mut json = serde_json::to_value(toy()).unwrap();
        json["version"] = 1.into();
        let message = error_of(&json.to_string());
        assert!(
            message.contains("version 1") && message.contains("whosaid train toy"),
            "{message}"
        );

        let mut json = serde_json::to_value(toy()).unwrap();
        json["features"] = serde_json::json!(["a", "c"]);
        assert!(error_of(&json.to_string()).contains("do not match"));

        let mut json = serde_json::to_value(toy()).unwrap();
        json["provenance"] = "made by hand".into();
        assert!(error_of(&json.to_string()).contains("rebuild"));

        let mut json = serde_json::to_value(toy()).unwrap();
        json["weights"] = serde_json::json!([1.0]);
        assert!(error_of(&json.to_string()).contains("one weight per feature"));

        assert!(error_of("[1, 2]").contains("not a whosaid model file"));
        let missing = load::<Toy>(Path::new("/no/such/toy.json")).unwrap_err();
        assert!(
            missing.to_string().contains("/no/such/toy.json"),
            "{missing}"
        );
    }
}
