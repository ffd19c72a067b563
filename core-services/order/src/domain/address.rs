//! Shipping addresses.

use quickmart_shared::AppError;
use quickmart_shared::error::FieldErrors;

use crate::api::AddressDto;

/// Every ISO 3166-1 alpha-2 country code (officially assigned), concatenated.
const COUNTRY_CODES: &str = "\
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
fn is_country_code(code: &str) -> bool {
    code.len() == 2
        && COUNTRY_CODES
            .as_bytes()
            .chunks(2)
            .any(|c| c == code.as_bytes())
}

/// A valid shipping address: trimmed, bounded fields and an assigned country code (stored upper case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingAddress(AddressDto);

impl ShippingAddress {
    /// Validates `input`, naming every invalid field as `prefix.<field>`.
    pub fn parse(input: AddressDto, prefix: &str) -> Result<Self, AppError> {
        let mut problems = FieldErrors::default();
        let mut text = |field: &str, value: String, max: usize| {
            let value = value.trim().to_owned();
            if value.is_empty() || value.chars().count() > max {
                problems.add(
                    format!("{prefix}.{field}"),
                    format!("must hold 1 to {max} characters"),
                );
            } else if let Err(reason) = quickmart_shared::text::single_line(&value) {
                problems.add(format!("{prefix}.{field}"), reason);
            }
            value
        };
        let name = text("name", input.name, 200);
        let line1 = text("line1", input.line1, 200);
        let city = text("city", input.city, 100);
        let postal_code = text("postal_code", input.postal_code, 20);
        let line2 = input
            .line2
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty());
        if line2.as_ref().is_some_and(|l| l.chars().count() > 200) {
            problems.add(
                format!("{prefix}.line2"),
                "must hold at most 200 characters",
            );
        } else if let Some(Err(reason)) = line2.as_deref().map(quickmart_shared::text::single_line)
        {
            problems.add(format!("{prefix}.line2"), reason);
        }
        let country = input.country.trim().to_ascii_uppercase();
        if !is_country_code(&country) {
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
        assert_eq!(COUNTRY_CODES.len(), 249 * 2);
        assert!(is_country_code("DE") && is_country_code("US") && is_country_code("ZW"));
        assert!(!is_country_code("XX") && !is_country_code("EU") && !is_country_code("D"));
    }

    #[test]
    fn addresses_are_normalised_and_validated() {
        let parsed = ShippingAddress::parse(address("gb", "SW1Y 4LG"), "shipping_address")
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
