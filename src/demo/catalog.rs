//! Static world of the demo: fictional brands with their products, Peru's regions with
//! real cities, and the platforms feedback comes from.
//!
//! Every brand name here is invented on purpose; none belongs to a real company.

use crate::store::feedback::SourceType;

use super::corpus::{self, Bank};
use super::corpus_en;

/// What a brand sells; drives sources, aspects and vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BrandGroup {
    Restaurant,
    Packaged,
    Beverage,
    Market,
}

/// A time of year when a product, brand or phrase is more likely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Season {
    AllYear,
    /// January to March: beach, heat, ceviche and cold drinks.
    Summer,
    /// June to August: soups and hot drinks.
    Winter,
    /// The last ten days of July (independence day on the 28th and 29th).
    FiestasPatrias,
    /// Mid-November to the end of December.
    Christmas,
}

pub(crate) struct Product {
    /// Stored in the `product` column.
    pub name: &'static str,
    /// Ways people write it in Spanish, always with an article so the text engine can
    /// make adjectives agree ("el chaufa estaba rico", "las papas estaban ricas").
    pub aliases_es: &'static [&'static str],
    /// Ways people write it in English, without article ("the" is in the templates).
    pub aliases_en: &'static [&'static str],
    pub weight: f64,
    pub peak: Season,
    pub peak_boost: f64,
}

pub(crate) struct Brand {
    pub name: &'static str,
    pub handle: &'static str,
    pub hashtag: &'static str,
    pub group: BrandGroup,
    /// Relative share of all feedback outside any season.
    pub weight: f64,
    pub peak: Season,
    pub peak_boost: f64,
    /// Multiplies the chance of negative feedback (1.0 = average brand).
    pub negativity: f64,
    pub products: &'static [Product],
    pub specialty_es: &'static Bank,
    pub specialty_en: &'static Bank,
}

impl Brand {
    /// The value stored in `category`; delivery-app feedback is filed under "delivery".
    pub(crate) fn category(&self, source: SourceType) -> &'static str {
        if source == SourceType::Delivery {
            return "delivery";
        }
        match self.group {
            BrandGroup::Restaurant => "restaurants",
            BrandGroup::Packaged => "packaged_foods",
            BrandGroup::Beverage => "beverages",
            BrandGroup::Market => "markets",
        }
    }
}

const fn product(
    name: &'static str,
    aliases_es: &'static [&'static str],
    aliases_en: &'static [&'static str],
    weight: f64,
) -> Product {
    Product {
        name,
        aliases_es,
        aliases_en,
        weight,
        peak: Season::AllYear,
        peak_boost: 1.0,
    }
}

const fn seasonal(
    name: &'static str,
    aliases_es: &'static [&'static str],
    aliases_en: &'static [&'static str],
    weight: f64,
    peak: Season,
    peak_boost: f64,
) -> Product {
    Product {
        name,
        aliases_es,
        aliases_en,
        weight,
        peak,
        peak_boost,
    }
}

pub(crate) const QORI_BRASA: Brand = Brand {
    name: "Qori Brasa",
    handle: "@QoriBrasaPe",
    hashtag: "#QoriBrasa",
    group: BrandGroup::Restaurant,
    weight: 17.0,
    peak: Season::FiestasPatrias,
    peak_boost: 1.3,
    negativity: 1.0,
    products: &[
        product(
            "pollo a la brasa 1/4",
            &[
                "el 1/4 de pollo",
                "el cuarto de pollo",
                "el pollito",
                "el 1/4 de pollo con papas",
                "el cuartito de pollo",
            ],
            &["quarter chicken", "pollo a la brasa", "rotisserie chicken"],
            30.0,
        ),
        product(
            "1/2 pollo a la brasa",
            &["el medio pollo", "el 1/2 pollo", "el medio pollito"],
            &["half chicken", "pollo a la brasa"],
            18.0,
        ),
        product(
            "pollo entero familiar",
            &["el pollo entero", "el combo familiar", "el familiar"],
            &["whole chicken", "family combo"],
            16.0,
        ),
        seasonal(
            "combo parrillero",
            &["la parrilla", "el combo parrillero", "la parrillada"],
            &["parrilla", "grill platter"],
            6.0,
            Season::FiestasPatrias,
            2.5,
        ),
        seasonal(
            "anticuchos de corazón",
            &["los anticuchos", "los anticuchitos", "el anticucho"],
            &["anticuchos", "beef heart skewers"],
            5.0,
            Season::FiestasPatrias,
            4.0,
        ),
        product(
            "mollejitas a la parrilla",
            &["las mollejitas", "las mollejas"],
            &["mollejitas", "grilled gizzards"],
            3.0,
        ),
        product(
            "papas fritas familiares",
            &["las papas", "las papitas", "las papas familiares"],
            &["fries"],
            6.0,
        ),
        seasonal(
            "chicha morada 1L (jarra)",
            &["la jarra de chicha", "la chicha morada", "la chichita"],
            &["chicha morada"],
            5.0,
            Season::Summer,
            1.5,
        ),
    ],
    specialty_es: &corpus::SPECIALTY_POLLERIA,
    specialty_en: &corpus_en::SPECIALTY_POLLERIA,
};

pub(crate) const LA_LANCHA: Brand = Brand {
    name: "La Lancha de Chalo",
    handle: "@LaLanchaDeChalo",
    hashtag: "#LaLanchaDeChalo",
    group: BrandGroup::Restaurant,
    weight: 12.0,
    peak: Season::Summer,
    peak_boost: 1.6,
    negativity: 0.85,
    products: &[
        seasonal(
            "ceviche clásico",
            &[
                "el ceviche",
                "el cebiche",
                "el ceviche clásico",
                "el cevichito",
            ],
            &["ceviche", "classic ceviche"],
            28.0,
            Season::Summer,
            1.8,
        ),
        seasonal(
            "ceviche mixto",
            &["el mixto", "el ceviche mixto", "el cebiche mixto"],
            &["mixed seafood ceviche", "ceviche mixto"],
            14.0,
            Season::Summer,
            1.6,
        ),
        seasonal(
            "leche de tigre",
            &["la leche de tigre", "el vaso de leche de tigre"],
            &["leche de tigre", "tiger's milk"],
            8.0,
            Season::Summer,
            1.5,
        ),
        product(
            "jalea mixta",
            &["la jalea", "la jalea mixta"],
            &["jalea", "fried seafood platter"],
            10.0,
        ),
        product(
            "arroz con mariscos",
            &["el arroz con mariscos"],
            &["arroz con mariscos", "seafood rice"],
            12.0,
        ),
        product(
            "chicharrón de pescado",
            &["el chicharrón de pescado"],
            &["fried fish chicharrón", "chicharrón de pescado"],
            7.0,
        ),
        product(
            "tiradito al ají amarillo",
            &["el tiradito", "el tiradito al ají amarillo"],
            &["tiradito"],
            6.0,
        ),
        product(
            "causa de langostinos",
            &["la causa", "la causita de langostinos"],
            &["causa"],
            6.0,
        ),
        seasonal(
            "chilcano de pisco",
            &["el chilcano", "los chilcanos"],
            &["chilcano", "pisco chilcano"],
            5.0,
            Season::Summer,
            2.2,
        ),
    ],
    specialty_es: &corpus::SPECIALTY_CEVICHERIA,
    specialty_en: &corpus_en::SPECIALTY_CEVICHERIA,
};

pub(crate) const FENIX_ANDINO: Brand = Brand {
    name: "Chifa Fénix Andino",
    handle: "@ChifaFenixAndino",
    hashtag: "#FenixAndino",
    group: BrandGroup::Restaurant,
    weight: 11.0,
    peak: Season::Winter,
    peak_boost: 1.1,
    negativity: 1.0,
    products: &[
        product(
            "arroz chaufa",
            &["el chaufa", "el arroz chaufa", "el chaufita"],
            &["chaufa", "fried rice", "arroz chaufa"],
            28.0,
        ),
        product(
            "aeropuerto especial",
            &["el aeropuerto", "el aeropuerto especial"],
            &["aeropuerto"],
            10.0,
        ),
        product(
            "tallarín saltado",
            &["el tallarín saltado", "el tallarín"],
            &["tallarín saltado", "stir-fried noodles"],
            14.0,
        ),
        product(
            "pollo chijaukay",
            &["el chijaukay", "el chi jau kay"],
            &["chijaukay"],
            10.0,
        ),
        product(
            "wantán frito",
            &["los wantanes", "el wantán frito", "los wantanes fritos"],
            &["fried wontons"],
            12.0,
        ),
        seasonal(
            "sopa wantán",
            &["la sopa wantán", "la sopita wantán"],
            &["wonton soup"],
            8.0,
            Season::Winter,
            1.8,
        ),
        product(
            "kam lu wantán",
            &["el kam lu wantán", "el kam lu"],
            &["kam lu wantán"],
            8.0,
        ),
        product(
            "tipakay",
            &["el tipakay", "el pollo tipakay"],
            &["tipakay"],
            6.0,
        ),
    ],
    specialty_es: &corpus::SPECIALTY_CHIFA,
    specialty_en: &corpus_en::SPECIALTY_CHIFA,
};

pub(crate) const CHALACA_BURGER: Brand = Brand {
    name: "Chalaca Burger",
    handle: "@ChalacaBurger",
    hashtag: "#ChalacaBurger",
    group: BrandGroup::Restaurant,
    weight: 10.0,
    peak: Season::AllYear,
    peak_boost: 1.0,
    negativity: 1.15,
    products: &[
        product(
            "hamburguesa clásica",
            &[
                "la hamburguesa",
                "la burger",
                "la clásica",
                "la hamburguesa clásica",
            ],
            &["burger", "classic burger"],
            22.0,
        ),
        product(
            "hamburguesa a lo pobre",
            &["la a lo pobre", "la hamburguesa a lo pobre"],
            &["a lo pobre burger"],
            12.0,
        ),
        product(
            "sánguche de chicharrón",
            &[
                "el sánguche de chicharrón",
                "el pan con chicharrón",
                "el sanguchito de chicharrón",
            ],
            &["chicharrón sandwich"],
            18.0,
        ),
        product("butifarra", &["la butifarra"], &["butifarra"], 7.0),
        product(
            "salchipapa especial",
            &["la salchipapa", "la salchi"],
            &["salchipapa"],
            14.0,
        ),
        product(
            "sánguche de lomo saltado",
            &["el sánguche de lomo", "el pan con lomo"],
            &["lomo saltado sandwich"],
            10.0,
        ),
        seasonal(
            "pan con pejerrey",
            &["el pan con pejerrey"],
            &["fried fish sandwich"],
            6.0,
            Season::Summer,
            1.5,
        ),
        product(
            "papas nativas fritas",
            &["las papas nativas", "las papitas nativas"],
            &["native potato fries"],
            8.0,
        ),
    ],
    specialty_es: &corpus::SPECIALTY_SANGUCHERIA,
    specialty_en: &corpus_en::SPECIALTY_SANGUCHERIA,
};

pub(crate) const DONA_MECHE: Brand = Brand {
    name: "La Sazón de Doña Meche",
    handle: "@SazonDonaMeche",
    hashtag: "#DoñaMeche",
    group: BrandGroup::Restaurant,
    weight: 9.0,
    peak: Season::FiestasPatrias,
    peak_boost: 1.6,
    negativity: 0.9,
    products: &[
        product(
            "lomo saltado",
            &["el lomo saltado", "el lomito", "el lomo"],
            &["lomo saltado"],
            25.0,
        ),
        product(
            "ají de gallina",
            &["el ají de gallina", "el ajicito de gallina"],
            &["ají de gallina"],
            15.0,
        ),
        seasonal(
            "causa limeña",
            &["la causa", "la causa limeña", "la causita"],
            &["causa limeña", "causa"],
            10.0,
            Season::Summer,
            1.3,
        ),
        product(
            "seco con frejoles",
            &["el seco con frejoles", "el seco"],
            &["seco", "beef stew with beans"],
            10.0,
        ),
        product(
            "arroz con pato",
            &["el arroz con pato"],
            &["arroz con pato", "duck rice"],
            8.0,
        ),
        product(
            "tacu tacu con bistec",
            &["el tacu tacu", "el tacu tacu con bistec"],
            &["tacu tacu"],
            7.0,
        ),
        seasonal(
            "pachamanca a la olla",
            &["la pachamanca", "la pachamanca a la olla"],
            &["pachamanca"],
            2.0,
            Season::FiestasPatrias,
            8.0,
        ),
        seasonal(
            "anticuchos con rachi",
            &["los anticuchos", "el anticucho con rachi"],
            &["anticuchos"],
            4.0,
            Season::FiestasPatrias,
            3.0,
        ),
        product(
            "picarones",
            &["los picarones", "los picaroncitos"],
            &["picarones"],
            5.0,
        ),
    ],
    specialty_es: &corpus::SPECIALTY_CRIOLLO,
    specialty_en: &corpus_en::SPECIALTY_CRIOLLO,
};

pub(crate) const KUSIY: Brand = Brand {
    name: "Kusiy",
    handle: "@KusiySnacks",
    hashtag: "#Kusiy",
    group: BrandGroup::Packaged,
    weight: 10.0,
    peak: Season::AllYear,
    peak_boost: 1.0,
    negativity: 0.95,
    products: &[
        KUSIY_GINGER_COOKIES,
        product(
            "galletas de quinua y chía",
            &["las galletas de quinua", "las de quinua y chía"],
            &["quinoa cookies"],
            12.0,
        ),
        product(
            "chifles de plátano 150g",
            &["los chifles", "los chiflecitos", "la bolsa de chifles"],
            &["chifles", "plantain chips"],
            16.0,
        ),
        product(
            "habas saladas 100g",
            &["las habas", "las habitas saladas"],
            &["salted fava beans"],
            9.0,
        ),
        product(
            "cancha serrana 120g",
            &["la cancha", "la canchita"],
            &["cancha", "toasted corn"],
            11.0,
        ),
        product(
            "chips de papa nativa 90g",
            &["los chips de papa nativa", "las papitas nativas"],
            &["native potato chips"],
            14.0,
        ),
        product(
            "alfajores de manjar x6",
            &["los alfajores", "los alfajorcitos"],
            &["alfajores"],
            9.0,
        ),
        product(
            "barra de kiwicha",
            &["la barrita de kiwicha", "las barritas de kiwicha"],
            &["kiwicha bars"],
            7.0,
        ),
    ],
    specialty_es: &corpus::SPECIALTY_SNACKS,
    specialty_en: &corpus_en::SPECIALTY_SNACKS,
};

/// The Kusiy product hit by the planted packaging-quality spike.
pub(crate) const KUSIY_GINGER_COOKIES: Product = product(
    "galletas de kion",
    &[
        "las galletas de kion",
        "las de kion",
        "las galletitas de kion",
    ],
    &["ginger cookies", "kion cookies"],
    22.0,
);

pub(crate) const KILLA: Brand = Brand {
    name: "Killa",
    handle: "@BebidasKilla",
    hashtag: "#Killa",
    group: BrandGroup::Beverage,
    weight: 11.0,
    peak: Season::Summer,
    peak_boost: 1.4,
    negativity: 0.9,
    products: &[
        seasonal(
            "chicha morada 1L",
            &["la chicha morada", "la chicha", "la chichita"],
            &["chicha morada", "purple corn drink"],
            24.0,
            Season::Summer,
            1.5,
        ),
        seasonal(
            "chicha morada 500ml",
            &["la chicha personal", "la chichita de 500"],
            &["chicha morada"],
            12.0,
            Season::Summer,
            1.4,
        ),
        product(
            "Killa Dorada 1.5L",
            &["la Killa Dorada", "la dorada", "la gaseosa amarilla"],
            &["Killa Dorada soda", "yellow soda"],
            26.0,
        ),
        seasonal(
            "refresco de maracuyá 1L",
            &["el de maracuyá", "el refresco de maracuyá"],
            &["passion fruit drink"],
            14.0,
            Season::Summer,
            1.5,
        ),
        product(
            "Killa Dorada 500ml",
            &["la dorada personal", "la Killa Dorada chiquita"],
            &["small Killa Dorada soda"],
            8.0,
        ),
        seasonal(
            "emoliente 500ml",
            &["el emoliente", "el emolientito"],
            &["emoliente"],
            6.0,
            Season::Winter,
            1.6,
        ),
    ],
    specialty_es: &corpus::SPECIALTY_BEVERAGES,
    specialty_en: &corpus_en::SPECIALTY_BEVERAGES,
};

/// Launched by Killa three weeks before the end of the window; only planted rows name it.
pub(crate) const KILLA_CAMU_CAMU: Product = product(
    "Killa Camu Camu 500ml",
    &[
        "la nueva Killa de camu camu",
        "la Killa Camu Camu",
        "la de camu camu",
        "la nueva de camu camu",
    ],
    &["new Killa Camu Camu", "camu camu drink"],
    1.0,
);

pub(crate) const ABUELA_ROSA: Brand = Brand {
    name: "Panetones Abuela Rosa",
    handle: "@PanetonAbuelaRosa",
    hashtag: "#AbuelaRosa",
    group: BrandGroup::Packaged,
    weight: 1.5,
    peak: Season::Christmas,
    peak_boost: 9.0,
    negativity: 0.9,
    products: &[
        product(
            "panetón clásico 900g",
            &["el panetón", "el panetón clásico", "el panetoncito"],
            &["panettone", "panetón"],
            40.0,
        ),
        product(
            "chocotón 900g",
            &["el chocotón", "el panetón de chocolate"],
            &["chocolate panettone"],
            20.0,
        ),
        product(
            "panetón sin frutas confitadas",
            &["el panetón sin frutas", "el de sin frutas"],
            &["panettone without candied fruit"],
            10.0,
        ),
        product(
            "panetón en lata 1kg",
            &["el panetón en lata", "el de lata"],
            &["panettone in a tin"],
            12.0,
        ),
        product(
            "panetón en bolsa 500g",
            &["el panetón chiquito", "el de bolsa", "el panetón de 500"],
            &["small panettone"],
            18.0,
        ),
    ],
    specialty_es: &corpus::SPECIALTY_PANETON,
    specialty_en: &corpus_en::SPECIALTY_PANETON,
};

pub(crate) const MERCADOS_AYLLU: Brand = Brand {
    name: "Mercados Ayllu",
    handle: "@MercadosAyllu",
    hashtag: "#MercadosAyllu",
    group: BrandGroup::Market,
    weight: 12.0,
    peak: Season::Christmas,
    peak_boost: 1.3,
    negativity: 1.1,
    products: &[
        product(
            "frutas y verduras",
            &["la fruta", "las verduras", "las frutas", "las paltas"],
            &["produce", "fruit"],
            24.0,
        ),
        product(
            "carnes",
            &["la carne", "el lomo fino", "la carne molida"],
            &["meat"],
            12.0,
        ),
        product(
            "pollo fresco",
            &["el pollo", "el pollo fresco"],
            &["chicken"],
            12.0,
        ),
        seasonal(
            "pescados y mariscos",
            &["el pescado", "los mariscos", "el bonito"],
            &["fish", "seafood"],
            10.0,
            Season::Summer,
            1.3,
        ),
        product(
            "abarrotes",
            &["el arroz", "los abarrotes", "el azúcar"],
            &["groceries"],
            14.0,
        ),
        product(
            "panadería",
            &["el pan", "el pan francés", "el pan de yema"],
            &["bread"],
            10.0,
        ),
        product(
            "jugos surtidos",
            &["el jugo surtido", "el jugo de papaya"],
            &["fresh juice"],
            8.0,
        ),
        seasonal(
            "canasta navideña",
            &["la canasta navideña", "la canasta"],
            &["Christmas hamper"],
            0.3,
            Season::Christmas,
            30.0,
        ),
    ],
    specialty_es: &corpus::SPECIALTY_MARKET,
    specialty_en: &corpus_en::SPECIALTY_MARKET,
};

pub(crate) const BRANDS: [&Brand; 9] = [
    &QORI_BRASA,
    &LA_LANCHA,
    &FENIX_ANDINO,
    &CHALACA_BURGER,
    &DONA_MECHE,
    &KUSIY,
    &KILLA,
    &ABUELA_ROSA,
    &MERCADOS_AYLLU,
];

pub(crate) struct Region {
    pub name: &'static str,
    pub hashtag: &'static str,
    /// Population in thousands, skewed towards the places that post online.
    pub weight: f64,
    /// How likely an English-speaking visitor or expat is (1.0 = average).
    pub visitors: f64,
    /// On the Pacific coast, where summer means beach.
    pub coast: bool,
    pub cities: &'static [(&'static str, f64)],
}

pub(crate) const AREQUIPA: Region = Region {
    name: "Arequipa",
    hashtag: "#Arequipa",
    weight: 1628.0,
    visitors: 1.3,
    coast: true,
    cities: &[
        ("Arequipa", 30.0),
        ("Cayma", 9.0),
        ("Yanahuara", 6.0),
        ("Cerro Colorado", 10.0),
        ("José Luis Bustamante y Rivero", 7.0),
        ("Paucarpata", 8.0),
        ("Camaná", 2.0),
        ("Mollendo", 2.0),
    ],
};

pub(crate) const REGIONS: [&Region; 25] = [
    &Region {
        name: "Lima",
        hashtag: "#Lima",
        weight: 13625.0,
        visitors: 1.0,
        coast: true,
        cities: &[
            ("Miraflores", 8.0),
            ("San Isidro", 6.0),
            ("Surco", 9.0),
            ("San Juan de Lurigancho", 10.0),
            ("Los Olivos", 7.0),
            ("Barranco", 4.0),
            ("Jesús María", 4.0),
            ("La Molina", 5.0),
            ("San Miguel", 5.0),
            ("Comas", 5.0),
            ("Ate", 6.0),
            ("Villa El Salvador", 5.0),
            ("Chorrillos", 5.0),
            ("Lince", 3.0),
            ("Magdalena del Mar", 3.0),
            ("Pueblo Libre", 3.0),
            ("San Borja", 4.0),
            ("Surquillo", 3.0),
            ("Cercado de Lima", 5.0),
            ("San Martín de Porres", 7.0),
            ("Independencia", 3.0),
            ("Villa María del Triunfo", 4.0),
            ("San Juan de Miraflores", 4.0),
            ("Huacho", 2.0),
            ("Cañete", 2.0),
            ("Huaral", 1.5),
        ],
    },
    &Region {
        name: "Callao",
        hashtag: "#Callao",
        weight: 1265.0,
        visitors: 0.5,
        coast: true,
        cities: &[
            ("Callao", 10.0),
            ("Bellavista", 4.0),
            ("La Perla", 3.0),
            ("Ventanilla", 6.0),
            ("La Punta", 1.0),
            ("Carmen de la Legua", 1.5),
        ],
    },
    &Region {
        name: "Piura",
        hashtag: "#Piura",
        weight: 2100.0,
        visitors: 0.5,
        coast: true,
        cities: &[
            ("Piura", 20.0),
            ("Castilla", 8.0),
            ("Sullana", 9.0),
            ("Talara", 4.0),
            ("Paita", 4.0),
            ("Máncora", 1.5),
        ],
    },
    &Region {
        name: "La Libertad",
        hashtag: "#LaLibertad",
        weight: 2050.0,
        visitors: 0.6,
        coast: true,
        cities: &[
            ("Trujillo", 25.0),
            ("Víctor Larco Herrera", 5.0),
            ("La Esperanza", 7.0),
            ("El Porvenir", 6.0),
            ("Huanchaco", 2.0),
            ("Pacasmayo", 1.5),
            ("Chepén", 2.0),
        ],
    },
    &AREQUIPA,
    &Region {
        name: "Cajamarca",
        hashtag: "#Cajamarca",
        weight: 1022.0,
        visitors: 0.4,
        coast: false,
        cities: &[
            ("Cajamarca", 15.0),
            ("Jaén", 6.0),
            ("Chota", 2.0),
            ("Baños del Inca", 2.0),
        ],
    },
    &Region {
        name: "Junín",
        hashtag: "#Junín",
        weight: 1390.0,
        visitors: 0.4,
        coast: false,
        cities: &[
            ("Huancayo", 16.0),
            ("El Tambo", 9.0),
            ("Chilca", 5.0),
            ("Tarma", 3.0),
            ("La Oroya", 1.5),
            ("Satipo", 2.0),
        ],
    },
    &Region {
        name: "Cusco",
        hashtag: "#Cusco",
        weight: 1370.0,
        visitors: 4.0,
        coast: false,
        cities: &[
            ("Cusco", 22.0),
            ("Wanchaq", 6.0),
            ("San Sebastián", 5.0),
            ("Santiago", 4.0),
            ("Urubamba", 2.0),
            ("Quillabamba", 1.5),
        ],
    },
    &Region {
        name: "Lambayeque",
        hashtag: "#Lambayeque",
        weight: 1340.0,
        visitors: 0.4,
        coast: true,
        cities: &[
            ("Chiclayo", 20.0),
            ("José Leonardo Ortiz", 6.0),
            ("La Victoria", 4.0),
            ("Lambayeque", 3.0),
            ("Ferreñafe", 1.5),
        ],
    },
    &Region {
        name: "Puno",
        hashtag: "#Puno",
        weight: 992.0,
        visitors: 1.4,
        coast: false,
        cities: &[
            ("Juliaca", 14.0),
            ("Puno", 12.0),
            ("Ilave", 2.0),
            ("Azángaro", 1.5),
        ],
    },
    &Region {
        name: "Áncash",
        hashtag: "#Áncash",
        weight: 1200.0,
        visitors: 0.7,
        coast: true,
        cities: &[
            ("Chimbote", 14.0),
            ("Nuevo Chimbote", 6.0),
            ("Huaraz", 10.0),
            ("Casma", 2.0),
            ("Caraz", 1.5),
        ],
    },
    &Region {
        name: "Loreto",
        hashtag: "#Loreto",
        weight: 1070.0,
        visitors: 1.0,
        coast: false,
        cities: &[
            ("Iquitos", 18.0),
            ("Punchana", 5.0),
            ("Belén", 4.0),
            ("San Juan Bautista", 5.0),
            ("Yurimaguas", 3.0),
        ],
    },
    &Region {
        name: "Ica",
        hashtag: "#Ica",
        weight: 1000.0,
        visitors: 1.3,
        coast: true,
        cities: &[
            ("Ica", 14.0),
            ("Chincha Alta", 8.0),
            ("Pisco", 5.0),
            ("Nasca", 3.0),
            ("Paracas", 1.0),
        ],
    },
    &Region {
        name: "San Martín",
        hashtag: "#SanMartín",
        weight: 920.0,
        visitors: 0.5,
        coast: false,
        cities: &[
            ("Tarapoto", 12.0),
            ("Moyobamba", 6.0),
            ("Morales", 3.0),
            ("La Banda de Shilcayo", 2.5),
            ("Juanjuí", 2.0),
        ],
    },
    &Region {
        name: "Huánuco",
        hashtag: "#Huánuco",
        weight: 655.0,
        visitors: 0.3,
        coast: false,
        cities: &[("Huánuco", 12.0), ("Amarilis", 5.0), ("Tingo María", 4.0)],
    },
    &Region {
        name: "Ayacucho",
        hashtag: "#Ayacucho",
        weight: 578.0,
        visitors: 0.6,
        coast: false,
        cities: &[
            ("Ayacucho", 14.0),
            ("Huanta", 3.0),
            ("San Juan Bautista", 2.0),
        ],
    },
    &Region {
        name: "Ucayali",
        hashtag: "#Ucayali",
        weight: 600.0,
        visitors: 0.4,
        coast: false,
        cities: &[("Pucallpa", 14.0), ("Yarinacocha", 6.0), ("Manantay", 4.0)],
    },
    &Region {
        name: "Apurímac",
        hashtag: "#Apurímac",
        weight: 323.0,
        visitors: 0.3,
        coast: false,
        cities: &[("Abancay", 8.0), ("Andahuaylas", 7.0)],
    },
    &Region {
        name: "Amazonas",
        hashtag: "#Amazonas",
        weight: 301.0,
        visitors: 0.7,
        coast: false,
        cities: &[("Chachapoyas", 6.0), ("Bagua Grande", 6.0)],
    },
    &Region {
        name: "Tacna",
        hashtag: "#Tacna",
        weight: 380.0,
        visitors: 0.5,
        coast: true,
        cities: &[
            ("Tacna", 14.0),
            ("Gregorio Albarracín", 6.0),
            ("Ciudad Nueva", 3.0),
            ("Pocollay", 2.0),
        ],
    },
    &Region {
        name: "Huancavelica",
        hashtag: "#Huancavelica",
        weight: 222.0,
        visitors: 0.2,
        coast: false,
        cities: &[("Huancavelica", 6.0), ("Lircay", 2.0)],
    },
    &Region {
        name: "Pasco",
        hashtag: "#Pasco",
        weight: 280.0,
        visitors: 0.3,
        coast: false,
        cities: &[
            ("Cerro de Pasco", 6.0),
            ("Oxapampa", 2.0),
            ("Villa Rica", 1.5),
        ],
    },
    &Region {
        name: "Tumbes",
        hashtag: "#Tumbes",
        weight: 260.0,
        visitors: 0.6,
        coast: true,
        cities: &[("Tumbes", 8.0), ("Zorritos", 2.0), ("Aguas Verdes", 2.0)],
    },
    &Region {
        name: "Moquegua",
        hashtag: "#Moquegua",
        weight: 200.0,
        visitors: 0.4,
        coast: true,
        cities: &[("Moquegua", 5.0), ("Ilo", 5.0)],
    },
    &Region {
        name: "Madre de Dios",
        hashtag: "#MadreDeDios",
        weight: 180.0,
        visitors: 1.0,
        coast: false,
        cities: &[("Puerto Maldonado", 8.0)],
    },
];

/// Districts and towns where tourists and expats concentrate.
pub(crate) const VISITOR_HOTSPOTS: [&str; 10] = [
    "Miraflores",
    "Barranco",
    "San Isidro",
    "Cusco",
    "Urubamba",
    "Paracas",
    "Máncora",
    "Huanchaco",
    "Yanahuara",
    "Puno",
];

/// How a platform's posts are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Tweet,
    Instagram,
    TikTok,
    Facebook,
    DeliveryApp,
    GoogleMaps,
    Tripadvisor,
    SurveyNps,
    SurveyPurchase,
}

pub(crate) struct Platform {
    /// Stored in the `platform` column.
    pub id: &'static str,
    /// How people name it in text ("lo pedí por Rappi").
    pub display: &'static str,
    pub source: SourceType,
    pub style: Style,
    /// Share of its source's feedback for an average brand.
    pub share: f64,
    /// Chance that an average writer on this platform writes in English.
    pub english: f64,
}

pub(crate) const PLATFORMS: [Platform; 11] = [
    Platform {
        id: "twitter",
        display: "Twitter",
        source: SourceType::Social,
        style: Style::Tweet,
        share: 30.0,
        english: 0.07,
    },
    Platform {
        id: "instagram",
        display: "Instagram",
        source: SourceType::Social,
        style: Style::Instagram,
        share: 28.0,
        english: 0.1,
    },
    Platform {
        id: "facebook",
        display: "Facebook",
        source: SourceType::Social,
        style: Style::Facebook,
        share: 26.0,
        english: 0.035,
    },
    Platform {
        id: "tiktok",
        display: "TikTok",
        source: SourceType::Social,
        style: Style::TikTok,
        share: 15.0,
        english: 0.055,
    },
    Platform {
        id: "rappi",
        display: "Rappi",
        source: SourceType::Delivery,
        style: Style::DeliveryApp,
        share: 45.0,
        english: 0.055,
    },
    Platform {
        id: "pedidosya",
        display: "PedidosYa",
        source: SourceType::Delivery,
        style: Style::DeliveryApp,
        share: 38.0,
        english: 0.045,
    },
    Platform {
        id: "didi_food",
        display: "DiDi Food",
        source: SourceType::Delivery,
        style: Style::DeliveryApp,
        share: 17.0,
        english: 0.035,
    },
    Platform {
        id: "google_maps",
        display: "Google Maps",
        source: SourceType::Review,
        style: Style::GoogleMaps,
        share: 80.0,
        english: 0.11,
    },
    Platform {
        id: "tripadvisor",
        display: "Tripadvisor",
        source: SourceType::Review,
        style: Style::Tripadvisor,
        share: 20.0,
        english: 0.45,
    },
    Platform {
        id: "encuesta_nps",
        display: "encuesta NPS",
        source: SourceType::Survey,
        style: Style::SurveyNps,
        share: 50.0,
        english: 0.015,
    },
    Platform {
        id: "encuesta_post_compra",
        display: "encuesta post compra",
        source: SourceType::Survey,
        style: Style::SurveyPurchase,
        share: 50.0,
        english: 0.015,
    },
];

/// Relative weight of each platform within its source, for one kind of brand.
pub(crate) fn platform_weight(platform: &Platform, group: BrandGroup) -> f64 {
    use BrandGroup::{Beverage, Market, Packaged, Restaurant};
    let fit = match (platform.style, group) {
        (Style::Instagram, Restaurant | Beverage) => 1.15,
        (Style::Instagram, _) => 0.85,
        (Style::Facebook, Market) => 1.4,
        (Style::TikTok, Beverage | Packaged) => 1.4,
        (Style::TikTok, _) => 0.9,
        (Style::GoogleMaps, Market) => 1.2,
        (Style::Tripadvisor, Market) => 0.25,
        (Style::SurveyNps, Restaurant | Market) => 1.1,
        (Style::SurveyNps, _) => 0.6,
        (Style::SurveyPurchase, Restaurant | Market) => 0.9,
        (Style::SurveyPurchase, _) => 1.4,
        _ => 1.0,
    };
    platform.share * fit
}

/// Share of each source for one kind of brand: packaged goods and drinks have no
/// delivery-app or map reviews, so they live on social media and in surveys.
pub(crate) fn source_weight(source: SourceType, group: BrandGroup) -> f64 {
    match (group, source) {
        (BrandGroup::Restaurant, SourceType::Social) => 34.0,
        (BrandGroup::Restaurant, SourceType::Review) => 24.0,
        (BrandGroup::Restaurant, SourceType::Delivery) => 30.0,
        (BrandGroup::Restaurant, SourceType::Survey) => 12.0,
        (BrandGroup::Market, SourceType::Social) => 30.0,
        (BrandGroup::Market, SourceType::Review) => 30.0,
        (BrandGroup::Market, SourceType::Delivery) => 20.0,
        (BrandGroup::Market, SourceType::Survey) => 20.0,
        (BrandGroup::Packaged | BrandGroup::Beverage, SourceType::Social) => 74.0,
        (BrandGroup::Packaged | BrandGroup::Beverage, SourceType::Survey) => 26.0,
        (BrandGroup::Packaged | BrandGroup::Beverage, _) => 0.0,
    }
}
