//! Which binary each function of the template is: `infra/template.yaml`'s
//! `Resources.<LogicalId>.Metadata.BuildProperties.Binary` (what `sam build` hands
//! cargo-lambda), read at startup as the routes are read from `infra/openapi.yaml`. The local
//! gateway names functions by logical id, as the document does; `cargo lambda watch` names them
//! by binary.

use std::collections::BTreeMap;

use serde_yaml::Value;

pub const TEMPLATE: &str = include_str!("../../../infra/template.yaml");

/// The template's functions: logical id → binary name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    binaries: BTreeMap<String, String>,
}

impl Catalogue {
    pub fn from_template(template: &str) -> Result<Self, String> {
        let t: Value = serde_yaml::from_str(template).map_err(|e| format!("template: {e}"))?;
        let resources = t["Resources"]
            .as_mapping()
            .ok_or("template: no Resources")?;
        let mut binaries = BTreeMap::new();
        for (id, resource) in resources {
            if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
                continue;
            }
            let id = id
                .as_str()
                .ok_or("template: a logical id is not a string")?;
            let binary = resource["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .filter(|b| !b.is_empty())
                .ok_or_else(|| format!("template: {id} has no Metadata.BuildProperties.Binary"))?;
            binaries.insert(id.to_owned(), binary.to_owned());
        }
        Ok(Self { binaries })
    }

    /// The binary of the function with this logical id.
    pub fn binary(&self, logical_id: &str) -> Option<&str> {
        self.binaries.get(logical_id).map(String::as_str)
    }

    /// Every (logical id, binary).
    pub fn functions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.binaries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_of_the_template_has_its_binary() {
        let catalogue = Catalogue::from_template(TEMPLATE).expect("the template parses");
        let cases = [
            ("AuthorizerFunction", "authorizer"),
            ("CreateKeyFunction", "create-key"),
            ("ListKeysFunction", "list-keys"),
            ("RevokeKeyFunction", "revoke-key"),
            ("SiteFunction", "site"),
        ];
        for (id, binary) in cases {
            assert_eq!(catalogue.binary(id), Some(binary), "{id}");
        }
        assert_eq!(catalogue.binary("KeysTable"), None, "not a function");
        assert_eq!(catalogue.binary("NoSuchFunction"), None);
    }

    #[test]
    fn a_function_without_a_binary_is_refused() {
        let cases = [
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n",
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildProperties: {}\n",
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildProperties:\n        Binary: ''\n",
            "Parameters: {}\n",
            ": not yaml: [",
        ];
        for template in cases {
            assert!(Catalogue::from_template(template).is_err(), "{template}");
        }
    }

    #[test]
    fn other_resources_are_not_functions() {
        let template = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n  F:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildProperties:\n        Binary: f\n";
        let catalogue = Catalogue::from_template(template).expect("parses");
        assert_eq!(catalogue.functions().collect::<Vec<_>>(), vec![("F", "f")]);
    }
}
