//! Postal addresses, one type for the two modules that keep them: an order's shipping snapshot (order-core) and a
//! customer's address book (user-core). The wire form, its validation and the country list live here so that
//! both validate an address the same way (docs/ARCHITECTURE.md, "Rules of the domain").

use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::error::FieldErrors;

/// Every ISO 3166-1 alpha-2 country code (officially assigned), concatenated.
pub const COUNTRY_CODES: &str = "\
ADAEAFAGAIALAMAOAQARASATAUAWAXAZ\
BABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ\
CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZ\
DEDJDKDMDODZ\
ECEEEGEHERESET\
FIFJFKFMFOFR\
GAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGY\
HKHMHNHRHTHU\
IDIEILIMINIOIQIRISIT\
JEJMJOJP\
KEKGKHKIKMKNKPKRKWKYKZ\
LALBLCLILKLRLSLTLULVLY\
MAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZ\
NANCNENFNGNINLNONPNRNUNZ\
OM\
PAPEPFPGPHPKPLPMPNPRPSPTPWPY\
QA\
RERORSRURW\
SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZ\
TCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZ\
UAUGUMUSUYUZ\
VAVCVEVGVIVNVU\
WFWS\
YEYT\
ZAZMZW";

/// Whether `code` is an assigned ISO 3166-1 alpha-2 code (upper case).
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2
        && COUNTRY_CODES
            .as_bytes()
            .chunks(2)
            .any(|c| c == code.as_bytes())
}

/// The schema of [`AddressDto::country`]: the codes of [`COUNTRY_CODES`], enumerated.
#[cfg(feature = "openapi")]
fn country_code_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "ISO 3166-1 alpha-2 country code in upper case, e.g. `DE`.",
        ))
        .enum_values(Some(
            COUNTRY_CODES
                .as_bytes()
                .chunks(2)
                .map(|code| String::from_utf8_lossy(code).into_owned()),
        ))
        .build()
}

/// A postal address: an order's shipping snapshot, or one of a customer's saved addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddressDto {
    /// Recipient (1–200 characters).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, format = "nonblank-line")
    )]
    pub name: String,
    /// Street and number (1–200 characters).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, format = "nonblank-line")
    )]
    pub line1: String,
    /// More of the address (up to 200 characters).
    #[cfg_attr(feature = "openapi", schema(max_length = 200, format = "line"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City (1–100 characters).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, format = "nonblank-line")
    )]
    pub city: String,
    /// Postal code (1–20 characters).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 20, format = "nonblank-line")
    )]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code in upper case, e.g. `DE`.
    #[cfg_attr(feature = "openapi", schema(schema_with = country_code_schema))]
    pub country: String,
}

/// A valid postal address: trimmed, bounded lines and an assigned country code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress(AddressDto);

impl PostalAddress {
    /// Validates `input`, naming every invalid field as `prefix.<field>` (as `<field>` when `prefix` is empty).
    pub fn parse(input: AddressDto, prefix: &str) -> Result<Self, AppError> {
        let mut problems = FieldErrors::default();
        let name_of = |field: &str| {
            if prefix.is_empty() {
                field.to_owned()
            } else {
                format!("{prefix}.{field}")
            }
        };
        let mut required = |field: &str, value: &str, max: usize| {
            crate::text::required_line(value, max).unwrap_or_else(|reason| {
                problems.add(name_of(field), reason);
                String::new()
            })
        };
        let name = required("name", &input.name, 200);
        let line1 = required("line1", &input.line1, 200);
        let city = required("city", &input.city, 100);
        let postal_code = required("postal_code", &input.postal_code, 20);
        let line2 = input
            .line2
            .as_deref()
            .map(|line2| crate::text::optional_line(line2, 200))
            .transpose()
            .unwrap_or_else(|reason| {
                problems.add(name_of("line2"), reason);
                None
            })
            .flatten();
        // Taken as sent: the contract enumerates the codes in upper case (the subgraph normalizes user input).
        let country = input.country;
        if !is_country_code(&country) {
            problems.add(
                name_of("country"),
                "must be an ISO 3166-1 alpha-2 country code such as DE or US",
            );
        }
        problems.finish(Self(AddressDto {
            name,
            line1,
            line2,
            city,
            postal_code,
            country,
        }))
    }

    /// The address as the API shows it.
    pub fn to_dto(&self) -> AddressDto {
        self.0.clone()
    }

    /// The fields in a fixed order (for hashing).
    pub fn parts(&self) -> [&str; 6] {
        let a = &self.0;
        [
            &a.name,
            &a.line1,
            a.line2.as_deref().unwrap_or(""),
            &a.city,
            &a.postal_code,
            &a.country,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(country: &str, postal_code: &str) -> AddressDto {
        AddressDto {
            name: " Ada Lovelace ".into(),
            line1: "12 St James's Square".into(),
            line2: Some("  ".into()),
            city: "London".into(),
            postal_code: postal_code.into(),
            country: country.into(),
        }
    }

    #[test]
    fn the_country_list_is_complete_and_checked() {
        assert_eq!(COUNTRY_CODES.len(), 249 * 2);
        assert!(is_country_code("DE") && is_country_code("US") && is_country_code("ZW"));
        assert!(!is_country_code("XX") && !is_country_code("EU") && !is_country_code("D"));
        assert!(
            !is_country_code("de"),
            "codes are upper case, as the contract enumerates them"
        );
    }

    #[test]
    fn addresses_are_trimmed_and_validated() {
        let parsed = PostalAddress::parse(address("GB", "SW1Y 4LG"), "shipping_address")
            .expect("valid")
            .to_dto();
        assert_eq!(
            (parsed.name.as_str(), parsed.country.as_str(), parsed.line2),
            ("Ada Lovelace", "GB", None)
        );

        let error =
            PostalAddress::parse(address("XX", ""), "shipping_address").expect_err("invalid");
        let fields: Vec<_> = error.field_errors().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["shipping_address.postal_code", "shipping_address.country"]
        );
    }
}
