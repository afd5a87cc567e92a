//! Items as the table's stream shows them to Lambda: `NewImage` in DynamoDB JSON
//! (`{"S": "…"}`, `{"N": "…"}`, `{"M": {…}}`, …), read back into items and audit events.
//! Lambda's DynamoDB event shape: https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html;
//! the attribute value forms: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use serde_json::Value;

use crate::audit::{ALL, AUDIT_PART, AuditEvent};
use crate::error::StoreError;
use crate::record::Item;

/// One image (`NewImage`, `OldImage`, `Keys`) as an item.
pub fn item_from_image(image: &Value) -> Result<Item, StoreError> {
    let Value::Object(map) = image else {
        return Err(StoreError::corrupt("a stream image is not an object"));
    };
    map.iter()
        .map(|(name, value)| Ok((name.clone(), attribute(value)?)))
        .collect()
}

fn attribute(value: &Value) -> Result<AttributeValue, StoreError> {
    let bad = || StoreError::corrupt("a stream image holds a malformed attribute value");
    let Value::Object(map) = value else {
        return Err(bad());
    };
    let mut entries = map.iter();
    let (Some((kind, inner)), None) = (entries.next(), entries.next()) else {
        return Err(bad());
    };
    let text = |v: &Value| v.as_str().map(str::to_owned).ok_or_else(bad);
    let texts = |v: &Value| -> Result<Vec<String>, StoreError> {
        v.as_array().ok_or_else(bad)?.iter().map(text).collect()
    };
    let blob = |v: &Value| -> Result<Blob, StoreError> {
        let encoded = v.as_str().ok_or_else(bad)?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map(Blob::new)
            .map_err(|_| bad())
    };
    Ok(match kind.as_str() {
        "S" => AttributeValue::S(text(inner)?),
        "N" => AttributeValue::N(text(inner)?),
        "B" => AttributeValue::B(blob(inner)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or_else(bad)?),
        "NULL" => AttributeValue::Null(inner.as_bool().ok_or_else(bad)?),
        "SS" => AttributeValue::Ss(texts(inner)?),
        "NS" => AttributeValue::Ns(texts(inner)?),
        "BS" => AttributeValue::Bs(
            inner
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .map(blob)
                .collect::<Result<_, _>>()?,
        ),
        "L" => AttributeValue::L(
            inner
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .map(attribute)
                .collect::<Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(item_from_image(inner)?),
        _ => return Err(bad()),
    })
}

/// The audit event a stream image holds, if it is the admins' copy of one (`audit_part` =
/// `all`: every event has exactly one, so each event is seen once); `None` for any other item.
/// An image that claims to be an event but is not a readable one is `Corrupt`.
pub fn audit_event_from_image(image: &Value) -> Result<Option<AuditEvent>, StoreError> {
    let item = item_from_image(image)?;
    match item.get(AUDIT_PART) {
        Some(AttributeValue::S(part)) if part == ALL => AuditEvent::from_item(&item).map(Some),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_attribute_form_reads_back() {
        let item = item_from_image(&json!({
            "s": {"S": "text"},
            "n": {"N": "42"},
            "b": {"B": "aGk="},
            "t": {"BOOL": true},
            "z": {"NULL": true},
            "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1"]},
            "bs": {"BS": ["aGk="]},
            "l": {"L": [{"S": "x"}, {"N": "1"}]},
            "m": {"M": {"inner": {"S": "y"}}},
        }))
        .expect("readable");
        assert_eq!(item["s"], AttributeValue::S("text".into()));
        assert_eq!(item["n"], AttributeValue::N("42".into()));
        assert_eq!(item["b"], AttributeValue::B(Blob::new(b"hi".to_vec())));
        assert_eq!(item["t"], AttributeValue::Bool(true));
        assert_eq!(item["z"], AttributeValue::Null(true));
        assert_eq!(item["ss"], AttributeValue::Ss(vec!["a".into(), "b".into()]));
        assert_eq!(item["ns"], AttributeValue::Ns(vec!["1".into()]));
        assert_eq!(
            item["bs"],
            AttributeValue::Bs(vec![Blob::new(b"hi".to_vec())])
        );
        assert_eq!(
            item["l"],
            AttributeValue::L(vec![
                AttributeValue::S("x".into()),
                AttributeValue::N("1".into())
            ])
        );
        let AttributeValue::M(m) = &item["m"] else {
            panic!("not a map")
        };
        assert_eq!(m["inner"], AttributeValue::S("y".into()));
    }

    #[test]
    fn malformed_values_are_corrupt_not_panics() {
        for bad in [
            json!([]),
            json!({"a": "plain"}),
            json!({"a": {}}),
            json!({"a": {"S": "x", "N": "1"}}),
            json!({"a": {"Q": "x"}}),
            json!({"a": {"S": 1}}),
            json!({"a": {"B": "not base64!"}}),
            json!({"a": {"L": [{"S": 1}]}}),
            json!({"a": {"SS": "x"}}),
        ] {
            assert!(
                matches!(item_from_image(&bad), Err(StoreError::Corrupt(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_the_admins_copy_of_an_event_is_an_event() {
        let event = json!({
            "pk": {"S": "audit#evt_1#0"},
            "audit_part": {"S": "all"},
            "audit_sort": {"S": "01796464800.000123#evt_1"},
            "evt_id": {"S": "evt_1"},
            "evt_time": {"N": "1796464800"},
            "action": {"S": "key.revoked"},
            "actor_type": {"S": "cli"},
            "target_key_id": {"S": "key_1"},
            "target_owner_id": {"S": "alice"},
            "target_name": {"S": "laptop"},
            "target_hint": {"S": "pod_Ab3k"},
        });
        let read = audit_event_from_image(&event)
            .expect("readable")
            .expect("an event");
        assert_eq!(read.id, "evt_1");
        assert_eq!(read.action.as_str(), "key.revoked");
        assert_eq!(read.micros, 123);

        let mut owners = event.clone();
        owners["audit_part"] = json!({"S": "owner#alice"});
        assert_eq!(audit_event_from_image(&owners).expect("readable"), None);
        assert_eq!(
            audit_event_from_image(&json!({"pk": {"S": "abc"}})).expect("readable"),
            None
        );

        let mut broken = event;
        broken["action"] = json!({"S": "key.exploded"});
        assert!(matches!(
            audit_event_from_image(&broken),
            Err(StoreError::Corrupt(_))
        ));
    }
}
