//! The demo catalog: five categories and fifty products with stock, created through product-core's API so every
//! rule applies. Running it again changes nothing.

use product_contract::api::{CategoryDto, CreateCategory, CreateProduct};
use quickmart_shared::AppError;
use quickmart_shared::client::{CallContext, InternalClient};

/// (slug, name, products as (name, description, price in cents)).
type CategorySeed = (
    &'static str,
    &'static str,
    [(&'static str, &'static str, i64); 10],
);

const CATALOG: [CategorySeed; 5] = [
    (
        "books",
        "Books",
        [
            (
                "The Rust Programming Language",
                "The official book on Rust, second edition.",
                3999,
            ),
            (
                "Designing Data-Intensive Applications",
                "Reliable, scalable and maintainable systems.",
                4599,
            ),
            (
                "Dune",
                "Frank Herbert's desert planet saga, paperback.",
                1299,
            ),
            (
                "The Pragmatic Programmer",
                "Your journey to mastery, 20th anniversary edition.",
                4199,
            ),
            (
                "Clean Architecture",
                "A craftsman's guide to software structure.",
                3499,
            ),
            (
                "Project Hail Mary",
                "A lone astronaut must save the earth.",
                1699,
            ),
            (
                "Thinking, Fast and Slow",
                "Two systems that drive the way we think.",
                1899,
            ),
            (
                "The Hobbit",
                "There and back again, illustrated edition.",
                1499,
            ),
            (
                "Database Internals",
                "A deep dive into how distributed data systems work.",
                5299,
            ),
            ("Atomic Habits", "Tiny changes, remarkable results.", 1799),
        ],
    ),
    (
        "electronics",
        "Electronics",
        [
            (
                "Wireless Earbuds",
                "Noise cancelling, 24 hours of battery with the case.",
                12999,
            ),
            (
                "Mechanical Keyboard",
                "Tenkeyless, hot-swappable switches, backlit.",
                8999,
            ),
            (
                "USB-C Charger 65W",
                "Gallium nitride charger with two ports.",
                3999,
            ),
            (
                "4K Monitor 27\"",
                "IPS panel, USB-C with power delivery.",
                34999,
            ),
            ("Portable SSD 1TB", "Up to 1050 MB/s over USB 3.2.", 10999),
            (
                "Smart Watch",
                "Heart rate, GPS and two weeks of battery.",
                19999,
            ),
            (
                "Bluetooth Speaker",
                "Waterproof, 12 hours of playback.",
                5999,
            ),
            (
                "Webcam 1080p",
                "Autofocus webcam with stereo microphones.",
                4999,
            ),
            ("E-Reader", "Glare-free 6\" display, warm light.", 9999),
            (
                "Wireless Mouse",
                "Silent clicks, three devices at once.",
                2999,
            ),
        ],
    ),
    (
        "home-kitchen",
        "Home & Kitchen",
        [
            ("Chef's Knife", "8\" forged stainless steel blade.", 5999),
            ("Cast Iron Skillet", "Pre-seasoned 12\" skillet.", 3499),
            ("French Press", "1 litre, borosilicate glass.", 2499),
            ("Electric Kettle", "1.7 litres, temperature control.", 4999),
            ("Cutting Board", "End-grain walnut board.", 6999),
            ("Stand Mixer", "5 quart bowl, ten speeds.", 27999),
            ("Ceramic Mug Set", "Four hand-glazed stoneware mugs.", 3299),
            ("Linen Tea Towels", "Set of three, stonewashed.", 1999),
            ("Spice Rack", "Bamboo rack with twenty jars.", 3999),
            ("Dutch Oven", "Enamelled cast iron, 5.5 quarts.", 8999),
        ],
    ),
    (
        "toys-games",
        "Toys & Games",
        [
            (
                "Chess Set",
                "Weighted pieces and a folding wooden board.",
                4499,
            ),
            (
                "Jigsaw Puzzle 1000",
                "A thousand pieces of alpine lake.",
                1999,
            ),
            (
                "Building Bricks Starter",
                "Five hundred classic bricks.",
                2999,
            ),
            (
                "Card Game: Sushi Go",
                "Fast-playing card drafting game.",
                999,
            ),
            ("Board Game: Catan", "Trade, build and settle.", 4399),
            ("Rubik's Cube", "The original 3x3 puzzle cube.", 1099),
            ("Kite", "Delta kite with a thirty metre line.", 2499),
            ("Wooden Train Set", "Forty pieces, compatible tracks.", 5499),
            ("Plush Bear", "Soft and washable, 30 cm.", 1999),
            ("Dominoes", "Double-six set in a tin.", 1299),
        ],
    ),
    (
        "sports-outdoors",
        "Sports & Outdoors",
        [
            ("Yoga Mat", "6 mm non-slip mat with strap.", 2999),
            ("Water Bottle", "Insulated steel, 750 ml.", 2499),
            (
                "Running Shoes",
                "Lightweight trainers with a cushioned sole.",
                11999,
            ),
            ("Camping Tent", "Two-person tent, 2.1 kg.", 15999),
            ("Headlamp", "350 lumen rechargeable headlamp.", 3499),
            ("Resistance Bands", "Five bands from light to heavy.", 1999),
            ("Cycling Helmet", "Ventilated, adjustable fit.", 6999),
            ("Hiking Backpack", "30 litres with rain cover.", 8999),
            ("Jump Rope", "Speed rope with ball bearings.", 1499),
            ("Sleeping Bag", "Three seasons, comfort to 2 °C.", 7999),
        ],
    ),
];

/// What seeding did.
#[derive(Debug, Default)]
pub struct SeedReport {
    /// Categories created now.
    pub categories_created: usize,
    /// Products created now.
    pub products_created: usize,
    /// Products that were there already.
    pub products_existing: usize,
}

/// Seeds the demo catalog through product-core at `client`.
pub async fn seed(client: &InternalClient) -> Result<SeedReport, AppError> {
    let ctx = CallContext::default();
    let mut report = SeedReport::default();
    for (index, (slug, name, products)) in CATALOG.iter().enumerate() {
        let category = match client
            .post("/v1/categories")
            .json(&CreateCategory {
                name: (*name).to_owned(),
                slug: (*slug).to_owned(),
            })?
            .send::<CategoryDto>(&ctx)
            .await
        {
            Ok(created) => {
                report.categories_created += 1;
                created
            }
            Err(AppError::Conflict { .. }) => {
                let all: Vec<CategoryDto> = client.get("/v1/categories").send(&ctx).await?;
                all.into_iter().find(|c| c.slug == *slug).ok_or_else(|| {
                    AppError::internal(format!("category {slug} conflicts but cannot be found"))
                })?
            }
            Err(other) => return Err(other),
        };
        for (number, (product_name, description, price)) in products.iter().enumerate() {
            let body = CreateProduct {
                sku: format!("QM-{:02}{:02}", index + 1, number + 1),
                name: (*product_name).to_owned(),
                description: (*description).to_owned(),
                price: *price,
                currency: None,
                // Varied stock, a few sold out, so "in stock" filters show something.
                stock: if number == 9 {
                    0
                } else {
                    5 + ((index * 7 + number * 13) % 40) as i64
                },
                category_id: Some(category.id),
                active: None,
            };
            match client
                .post("/v1/products")
                .json(&body)?
                .send::<serde_json::Value>(&ctx)
                .await
            {
                Ok(_) => report.products_created += 1,
                Err(AppError::Conflict { .. }) => report.products_existing += 1,
                Err(other) => return Err(other),
            }
        }
    }
    Ok(report)
}
