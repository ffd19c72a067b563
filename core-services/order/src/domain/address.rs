//! Shipping addresses.

use quickmart_shared::AppError;
use quickmart_shared::error::FieldErrors;

use crate::api::AddressDto;

/// A valid shipping address: trimmed, bounded lines and an assigned country code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingAddress(AddressDto);

impl ShippingAddress {
    /// Validates `input`, naming every invalid field as `prefix.<field>`.
    pub fn parse(input: AddressDto, prefix: &str) -> Result<Self, AppError> {
        let mut problems = FieldErrors::default();
        let mut required = |field: &str, value: &str, max: usize| {
            quickmart_shared::text::required_line(value, max).unwrap_or_else(|reason| {
                problems.add(format!("{prefix}.{field}"), reason);
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
            .map(|line2| quickmart_shared::text::optional_line(line2, 200))
            .transpose()
            .unwrap_or_else(|reason| {
                problems.add(format!("{prefix}.line2"), reason);
                None
            })
            .flatten();
        // Taken as sent: the contract enumerates the codes in upper case (the subgraph normalizes user input).
        let country = input.country;
        if !crate::api::is_country_code(&country) {
            problems.add(
                format!("{prefix}.country"),
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
    pub(crate) fn parts(&self) -> [&str; 6] {
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
        use crate::api::{COUNTRY_CODES, is_country_code};
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
        let parsed = ShippingAddress::parse(address("GB", "SW1Y 4LG"), "shipping_address")
            .expect("valid")
            .to_dto();
        assert_eq!(
            (parsed.name.as_str(), parsed.country.as_str(), parsed.line2),
            ("Ada Lovelace", "GB", None)
        );

        let error =
            ShippingAddress::parse(address("XX", ""), "shipping_address").expect_err("invalid");
        let fields: Vec<_> = error.field_errors().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["shipping_address.postal_code", "shipping_address.country"]
        );
    }
}
