//! English phrase banks: tourists in Cusco, Lima or Arequipa and expats ordering in.
//!
//! Same placeholders as the Spanish banks (see `corpus`), except that `{p}` has no
//! article here ("the {p} was great") and agreement uses `{#singular|plural}` only.

use super::corpus::{Bank, Lexicon};

pub(crate) const ENGLISH: Lexicon = Lexicon {
    interjections: Bank {
        positive: &[
            "wow",
            "ok so",
            "honestly",
            "omg",
            "yes",
            "ngl",
            "wow wow wow",
            "folks",
        ],
        neutral: &["hey", "hmm", "so", "ok"],
        negative: &[
            "ugh",
            "seriously",
            "wow",
            "not again",
            "honestly",
            "yikes",
            "smh",
        ],
    },
    greetings: Bank {
        positive: &["Hi there!", "Just had to write this.", "Short review:"],
        neutral: &["Quick review.", "Hi.", "Some thoughts."],
        negative: &["Hi.", "Buyer beware.", "Not a happy customer.", "Warning:"],
    },
    closers: Bank {
        positive: &[
            "highly recommend",
            "would definitely come back",
            "must try if you're in Peru",
            "can't wait to come back",
            "10/10",
            "thank you {b}",
            "don't miss it",
            "best meal of our trip",
            "worth every sol",
            "five stars from us",
        ],
        neutral: &[
            "it's fine",
            "might give it another try",
            "ok for a quick bite",
            "not sure I'd come back",
            "three stars",
            "nothing more to say",
        ],
        negative: &[
            "won't be back",
            "avoid",
            "such a letdown",
            "would not recommend",
            "never again",
            "waste of money",
            "really disappointing",
            "still waiting for a refund",
        ],
    },
    closers_product: Bank {
        positive: &[
            "highly recommend",
            "buying more for sure",
            "my new favorite",
            "10/10",
            "thank you {b}",
        ],
        neutral: &["it's fine", "might buy again", "nothing more to say"],
        negative: &[
            "won't buy again",
            "waste of money",
            "never again",
            "switching brands",
        ],
    },
    slang: Bank {
        positive: &["lol", "no regrets", "obsessed", "chef's kiss", "so good"],
        neutral: &["meh", "eh", "idk"],
        negative: &["smh", "ugh", "lol no", "nope"],
    },
    emoji: Bank {
        positive: &[
            "😍", "🤤", "🔥", "👌", "😋", "🙌", "💯", "❤️", "👏", "✨", "🇵🇪",
        ],
        neutral: &["🤔", "😐", "🤷", "🙂", "👀"],
        negative: &["😡", "👎", "😒", "🙄", "😞", "🤢", "💀", "😩"],
    },
    hashtags: Bank {
        positive: &[
            "#PeruvianFood",
            "#Foodie",
            "#TravelPeru",
            "#Peru",
            "#Yum",
            "#Lima",
            "#Cusco",
        ],
        neutral: &["#TravelTips", "#Question", "#Peru"],
        negative: &["#Disappointed", "#FoodFail", "#NeverAgain", "#BadService"],
    },
    short_social: Bank {
        positive: &[
            "need this",
            "looks amazing",
            "omg yes",
            "best in town",
            "so good",
            "adding this to my list",
            "I miss this",
            "take me back",
            "my fave",
        ],
        neutral: &[
            "where is this?",
            "price?",
            "do you deliver?",
            "open on Sundays?",
            "is it spicy?",
        ],
        negative: &[
            "not worth it",
            "overrated",
            "went downhill",
            "never again",
            "so overpriced",
        ],
    },
    short_review: Bank {
        positive: &[
            "great food, great service",
            "fast and hot",
            "excellent",
            "loved it",
            "perfect as always",
            "super tasty",
            "amazing, thanks!",
        ],
        neutral: &["ok", "fine", "average", "nothing special", "decent"],
        negative: &[
            "terrible",
            "arrived cold",
            "way too slow",
            "awful",
            "missing items",
            "not good",
        ],
    },
    short_survey: Bank {
        positive: &[
            "Very satisfied",
            "Great service",
            "Excellent quality",
            "All good, thanks",
        ],
        neutral: &["Average", "It was ok", "No comments", "Fine"],
        negative: &[
            "Poor service",
            "Too slow",
            "Not satisfied",
            "Product in bad condition",
        ],
    },
    titles: Bank {
        positive: &[
            "Amazing!",
            "Best ceviche in town",
            "A must in {c}",
            "Authentic Peruvian flavors",
            "Great find",
            "Worth the hype",
            "Loved every bite",
        ],
        neutral: &[
            "Decent",
            "Just ok",
            "Good food, slow service",
            "Fine but pricey",
        ],
        negative: &[
            "Disappointing",
            "Not worth it",
            "Tourist trap",
            "Avoid",
            "Went downhill",
        ],
    },
    video_captions: Bank {
        positive: &[
            "POV: you found the best {p} in {c}",
            "trying {p} in Peru for the first time",
            "this {p} though",
        ],
        neutral: &["is it worth it? honest review", "rating {p} from {b}"],
        negative: &[
            "POV: your {p} arrived like this",
            "expectation vs reality: {b} edition",
        ],
    },
    survey_suggestions: Bank {
        positive: &[
            "Keep it up.",
            "Nothing to improve.",
            "Please open a place near {c}.",
        ],
        neutral: &[
            "More vegetarian options.",
            "An English menu would help.",
            "Longer hours.",
        ],
        negative: &[
            "Faster service please.",
            "Train your staff.",
            "Keep the food hot for delivery.",
            "Check your quality control.",
        ],
    },
    survey_suggestions_product: Bank {
        positive: &["Keep it up.", "Don't change the recipe."],
        neutral: &["More sizes please.", "Easier to find outside Lima."],
        negative: &["Check your quality control.", "Better sealing on the bags."],
    },
    survey_reasons: Bank {
        positive: &["I'd give it a {nps} because", "I'd recommend {b} because"],
        neutral: &["A {nps} because", "Not a 10 because"],
        negative: &["Only a {nps} because", "I wouldn't recommend {b} because"],
    },
    meh: &[
        "it was fine, nothing special",
        "pretty average",
        "ok, not great not bad",
        "the {p} {#was|were} fine, nothing memorable",
        "decent enough",
        "does the job",
        "expected more honestly",
        "not bad, not amazing",
    ],
    mixed_connectors: &[
        ", but ",
        ". That said, ",
        ", although ",
        ". Downside: ",
        ". However, ",
    ],
    mixed_short: &[
        "tasty but pricey",
        "great food, terrible service",
        "good but tiny portions",
        "fast but cold",
        "nice place, average food",
        "loved the {p}, hated the wait",
    ],
    sarcasm: &[
        "love waiting {min} minutes for cold {p}, thanks {bh} 🙃",
        "great, {p} with zero flavor, what an experience",
        "nothing says Peru like paying {soles} soles for a sad {p}",
    ],
    question_openers: &["quick question:", "hi,", "hey,"],
    questions_restaurant: &[
        "do you have an English menu?",
        "what time does the {c} location close?",
        "do you take reservations for tonight?",
        "is the {p} very spicy?",
        "do you accept credit cards?",
        "any vegetarian options?",
        "do you deliver to {dist}?",
    ],
    questions_packaged: &[
        "where can I buy the {p} in {c}?",
        "does the {p} contain gluten?",
        "do you ship abroad?",
        "is the {p} vegan?",
    ],
    questions_market: &[
        "what time do you open on Sundays?",
        "do you deliver to {dist}?",
        "do you take credit cards?",
    ],
    context_visit: &[
        "we stopped by the {c} location after a long day exploring",
        "came here {who} on our last night in {c}",
        "our tour guide recommended this place",
        "I've been living in {c} for two years and this is my go-to",
        "first time trying Peruvian food and we picked this place",
        "walked in {who} for a late lunch",
        "came on a {dia} {who}",
        "a friend from {c} brought us here",
    ],
    context_delivery: &[
        "ordered the {p} through {app} to our Airbnb in {c}",
        "ordered on {app} after a long day",
        "got delivery to my apartment in {c}",
        "ordered {when} through {app}",
        "we ordered dinner {who} through {app}",
    ],
    context_packaged: &[
        "picked up the {p} at a corner bodega",
        "grabbed the {p} at the supermarket",
        "bought the {p} as a snack for the bus to {dist}",
        "tried the {p} for the first time",
        "a local friend told me to try the {p}",
    ],
    context_market: &[
        "did my weekly shopping at {b} in {c}",
        "stopped by {b} in {c} to pick up some {p}",
        "ordered groceries online from {b}",
        "went to the {c} location {when}",
    ],
    occasion_summer: &["in this heat", "after a beach day", "this summer"],
    occasion_fiestas_patrias: &["for Fiestas Patrias", "on the independence day holiday"],
    occasion_pollo_day: &["on Pollo a la Brasa Day"],
    occasion_christmas: &["for Christmas", "during the holidays"],
    occasion_new_year: &["for New Year's Eve", "happy new year!"],
    occasion_mothers_day: &["for Mother's Day"],
    food: Bank {
        positive: &[
            "the {p} {#was|were} amazing",
            "the {p} {#was|were} delicious",
            "best {p} I've had in Peru",
            "the {p} {#was|were} packed with flavor",
            "loved the {p}",
            "the {p} {#was|were} perfectly done",
            "the {p} {#is|are} a must",
            "the {p} blew me away",
            "seriously good {p}",
            "the {p} {#was|were} spot on",
            "could eat the {p} every day",
        ],
        neutral: &[
            "the {p} {#was|were} ok",
            "the {p} {#was|were} fine, nothing special",
            "the {p} {#was|were} decent",
            "the {p} {#was|were} average at best",
            "the {p} {#was|were} alright",
        ],
        negative: &[
            "the {p} {#was|were} bland",
            "the {p} {#was|were} awful",
            "the {p} tasted old",
            "the {p} {#was|were} way too salty",
            "the {p} made me sick",
            "the {p} {#was|were} a huge letdown",
            "the {p} had a weird taste",
            "the {p} {#was|were} inedible",
        ],
    },
    dish: Bank {
        positive: &[
            "about {soles} soles for two, a bargain",
            "huge portions",
            "generous portions, we couldn't finish",
            "everything came out hot and fast",
            "beautiful presentation",
        ],
        neutral: &[
            "portions were average",
            "simple presentation",
            "portion size was ok",
        ],
        negative: &[
            "tiny portion for the price",
            "the plate came out lukewarm",
            "found a hair in my food",
            "everything was swimming in oil",
        ],
    },
    service: Bank {
        positive: &[
            "the staff were super friendly",
            "our waiter {staff} was great",
            "service was quick and warm",
            "they were patient with our broken Spanish",
            "the staff went out of their way to help us",
        ],
        neutral: &[
            "service was ok",
            "service was fine but a bit slow",
            "standard service",
        ],
        negative: &[
            "the staff ignored us",
            "service was rude",
            "we had to ask for the bill three times",
            "the waiter got our order wrong twice",
            "nobody seemed to care",
        ],
    },
    wait: Bank {
        positive: &["no wait at all", "food came out in ten minutes"],
        neutral: &[
            "a bit of a wait, but it was busy",
            "about 20 minutes wait, normal",
        ],
        negative: &[
            "we waited {min} minutes for our food",
            "almost an hour for two dishes",
        ],
    },
    ambience: Bank {
        positive: &[
            "lovely atmosphere",
            "clean and bright place",
            "great vibe, very local",
            "nice spot for families",
        ],
        neutral: &[
            "simple place, nothing fancy",
            "a bit noisy",
            "no parking nearby",
        ],
        negative: &[
            "the place was dirty",
            "bathrooms were disgusting",
            "way too loud to talk",
        ],
    },
    price: Bank {
        positive: &[
            "great value",
            "cheap and delicious",
            "very reasonable prices",
        ],
        neutral: &[
            "a bit pricey but ok",
            "prices are average",
            "fair prices, nothing more",
        ],
        negative: &[
            "way overpriced",
            "{soles} soles for this? no way",
            "tourist prices for average food",
            "they overcharged us",
        ],
    },
    delivery_time: Bank {
        positive: &[
            "arrived in 20 minutes",
            "super fast delivery",
            "came earlier than the app said",
        ],
        neutral: &[
            "took about 40 minutes, as expected",
            "a little late but fine",
        ],
        negative: &[
            "took over an hour",
            "waited {min} minutes for delivery",
            "the app said 30 minutes, it took {min}",
            "they cancelled my order after an hour",
        ],
    },
    delivery_state: Bank {
        positive: &[
            "arrived hot and well packed",
            "nothing spilled, great packaging",
        ],
        neutral: &["arrived lukewarm but ok", "packaging was fine"],
        negative: &[
            "arrived cold",
            "the bag was soaked",
            "the {p} arrived completely squashed",
            "the container came open",
        ],
    },
    rider: Bank {
        positive: &[
            "the driver was very kind",
            "the rider called to find my building, nice",
        ],
        neutral: &["the driver got a bit lost but made it"],
        negative: &[
            "the driver was rude",
            "the rider marked it delivered and never showed up",
        ],
    },
    order_accuracy: Bank {
        positive: &["order was complete", "they followed my notes perfectly"],
        neutral: &["one sauce was missing, no big deal"],
        negative: &[
            "half my order was missing",
            "they sent someone else's order",
        ],
    },
    app: Bank {
        positive: &[
            "{app} support sorted it out quickly",
            "the coupon worked fine",
        ],
        neutral: &["the app tracking was a bit off"],
        negative: &["{app} charged me twice", "{app} support was useless"],
    },
    packaging: Bank {
        positive: &["easy to open, nice design", "nice packaging"],
        neutral: &["packaging is normal"],
        negative: &[
            "more packaging than product",
            "the packaging tears when you open it",
        ],
    },
    availability: Bank {
        positive: &["you can find it everywhere", "my local bodega has it"],
        neutral: &["hard to find outside Lima"],
        negative: &["impossible to find in {c}", "always out of stock"],
    },
    market_service: Bank {
        positive: &[
            "the stall ladies are so friendly",
            "they gave me a little extra, the famous yapa",
            "the butcher cut everything just how I asked",
        ],
        neutral: &["service varies from stall to stall"],
        negative: &[
            "they tried to shortchange me",
            "the scale at one stall was off",
        ],
    },
    queue: Bank {
        positive: &["no lines at checkout"],
        neutral: &["some lines on Saturday, normal"],
        negative: &[
            "huge lines and one register open",
            "waited {min} minutes to pay",
        ],
    },
    delivery_slump: Bank {
        positive: &[],
        neutral: &["late again, but at least it was complete"],
        negative: &[
            "the chicken arrived cold again",
            "over an hour for the {p}, and it was cold",
            "delivery from {b} in Arequipa has gone downhill fast",
            "third time this month my order came late and cold",
        ],
    },
    launch_buzz: Bank {
        positive: &[
            "the {p} is so refreshing",
            "obsessed with the {p}",
            "finally a drink with Amazon fruit, love the {p}",
            "the {p} is my new favorite",
            "tried the {p} today, amazing",
        ],
        neutral: &["where can I find the {p} in {c}?", "is the {p} sweetened?"],
        negative: &["the {p} is way too sweet for me"],
    },
    packaging_issue: Bank {
        positive: &[],
        neutral: &["is anyone else seeing issues with the {p}?"],
        negative: &[
            "the {p} came stale and soft",
            "the bag of {p} was not sealed",
            "the {p} smelled damp, threw them out",
            "bad batch of {p}, avoid for now",
        ],
    },
    companions: &[
        "with my partner",
        "with friends",
        "with the family",
        "with my wife",
        "with my husband",
        "with some coworkers",
        "with our tour group",
        "solo",
    ],
    when_morning: &["yesterday", "last night", "on the weekend"],
    when_midday: &["today for lunch", "this afternoon", "yesterday"],
    when_evening: &["tonight", "this evening", "earlier today"],
    when_night: &["just now", "late last night"],
    weekdays: [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
    staff: &["Kevin", "Rosa", "Luis", "Milagros", "Pedro"],
};

pub(crate) const SPECIALTY_POLLERIA: Bank = Bank {
    positive: &[
        "juicy chicken with crispy skin",
        "the ají sauce is the real star",
        "you can taste the wood fire",
    ],
    neutral: &["standard rotisserie chicken", "sauces were a bit watery"],
    negative: &[
        "dry chicken",
        "soggy fries",
        "tiny chicken, barely any meat",
    ],
};

pub(crate) const SPECIALTY_CEVICHERIA: Bank = Bank {
    positive: &[
        "super fresh fish and perfect lime",
        "the leche de tigre is incredible",
        "sweet potato and corn on the side were perfect",
    ],
    neutral: &["ceviche was a bit too sour for me"],
    negative: &[
        "the fish didn't taste fresh",
        "way too much onion, little fish",
    ],
};

pub(crate) const SPECIALTY_CHIFA: Bank = Bank {
    positive: &["that wok flavor is unreal", "Peruvian-Chinese at its best"],
    neutral: &["typical chifa, nothing special"],
    negative: &["greasy fried rice", "drowning in soy sauce"],
};

pub(crate) const SPECIALTY_SANGUCHERIA: Bank = Bank {
    positive: &[
        "crispy pork and fresh salsa criolla",
        "soft bread, juicy meat",
    ],
    neutral: &["standard sandwiches"],
    negative: &["stale bread", "the pork was all fat"],
};

pub(crate) const SPECIALTY_CRIOLLO: Bank = Bank {
    positive: &[
        "real home-style Peruvian cooking",
        "smoky lomo saltado, just right",
    ],
    neutral: &["decent criollo food"],
    negative: &["tough meat", "tasted like it came from a packet"],
};

pub(crate) const SPECIALTY_SNACKS: Bank = Bank {
    positive: &["crunchy and not greasy", "great local ingredients"],
    neutral: &["just another snack"],
    negative: &[
        "stale taste",
        "mostly crumbs in the bag",
        "the bag is half air",
    ],
};

pub(crate) const SPECIALTY_BEVERAGES: Bank = Bank {
    positive: &["tastes natural, not too sweet", "super refreshing"],
    neutral: &["tastes like any other brand"],
    negative: &["way too sugary", "tastes artificial"],
};

pub(crate) const SPECIALTY_PANETON: Bank = Bank {
    positive: &["soft and fluffy", "great with hot chocolate"],
    neutral: &["a regular panettone"],
    negative: &["dry as a brick", "more candied fruit than bread"],
};

pub(crate) const SPECIALTY_MARKET: Bank = Bank {
    positive: &["super fresh produce", "great quality {p}"],
    neutral: &["produce was ok"],
    negative: &["wilted vegetables", "the {p} didn't look fresh"],
};
