//! The words generated customers are made of, with how often each occurs.
//!
//! Names follow a steep, census-like distribution so that bases such as `johnsmith` repeat
//! hundreds of times in a million rows (usernames then need suffixes, searches for common
//! names find thousands); countries are skewed (a third of the customers in the USA), each
//! with a few cities of its own. Every word is plain ASCII so the username base (letters
//! of first + last name) can be computed here rather than in SQL.

/// First names and their weights.
#[rustfmt::skip]
pub(super) const FIRST_NAMES: &[(&str, u32)] = &[
    ("James", 33), ("Mary", 30), ("John", 32), ("Patricia", 15), ("Robert", 31),
    ("Jennifer", 14), ("Michael", 30), ("Linda", 13), ("William", 24), ("Elizabeth", 12),
    ("David", 26), ("Barbara", 11), ("Richard", 15), ("Susan", 11), ("Joseph", 14),
    ("Jessica", 10), ("Thomas", 13), ("Sarah", 10), ("Charles", 12), ("Karen", 9),
    ("Christopher", 11), ("Nancy", 8), ("Daniel", 11), ("Lisa", 8), ("Matthew", 9),
    ("Betty", 7), ("Anthony", 8), ("Margaret", 7), ("Mark", 8), ("Sandra", 7),
    ("Donald", 7), ("Ashley", 6), ("Steven", 7), ("Emily", 6), ("Paul", 7), ("Donna", 5),
    ("Andrew", 6), ("Michelle", 5), ("Joshua", 6), ("Carol", 5), ("Kevin", 5), ("Amanda", 5),
    ("Brian", 5), ("Melissa", 4), ("George", 5), ("Deborah", 4), ("Maria", 6), ("Jose", 5),
    ("Wei", 4), ("Mohammed", 4), ("Fatima", 3), ("Anna", 4), ("Lukas", 2), ("Sophie", 3),
    ("Hiroshi", 2), ("Yuki", 2), ("Priya", 3), ("Rahul", 3), ("Olga", 2), ("Ivan", 2),
    ("Lucia", 2), ("Mateo", 2), ("Chloe", 2), ("Noah", 3), ("Emma", 3), ("Liam", 3),
    ("Olivia", 3), ("Ava", 2), ("Ethan", 2), ("Mia", 2), ("Zoe", 1), ("Xavier", 1),
];

/// Last names and their weights.
#[rustfmt::skip]
pub(super) const LAST_NAMES: &[(&str, u32)] = &[
    ("Smith", 40), ("Johnson", 32), ("Williams", 27), ("Brown", 24), ("Jones", 24),
    ("Garcia", 22), ("Miller", 21), ("Davis", 20), ("Rodriguez", 18), ("Martinez", 17),
    ("Hernandez", 16), ("Lopez", 14), ("Gonzalez", 14), ("Wilson", 13), ("Anderson", 13),
    ("Thomas", 12), ("Taylor", 12), ("Moore", 11), ("Jackson", 11), ("Martin", 11),
    ("Lee", 11), ("Perez", 10), ("Thompson", 10), ("White", 10), ("Harris", 9),
    ("Sanchez", 9), ("Clark", 9), ("Ramirez", 8), ("Lewis", 8), ("Robinson", 8),
    ("Walker", 8), ("Young", 7), ("Allen", 7), ("King", 7), ("Wright", 7), ("Scott", 7),
    ("Torres", 6), ("Nguyen", 8), ("Hill", 6), ("Flores", 6), ("Green", 6), ("Adams", 6),
    ("Nelson", 5), ("Baker", 5), ("Hall", 5), ("Rivera", 5), ("Campbell", 5),
    ("Mitchell", 5), ("Carter", 5), ("Roberts", 5), ("Mueller", 6), ("Schmidt", 5),
    ("Schneider", 3), ("Fischer", 3), ("Dubois", 3), ("Rossi", 4),
    ("Russo", 2), ("Tanaka", 3), ("Suzuki", 3), ("Sato", 3), ("Wang", 6), ("Li", 6),
    ("Zhang", 5), ("Chen", 5), ("Kim", 5), ("Park", 4), ("Singh", 5), ("Kumar", 4),
    ("Patel", 5), ("Ivanov", 3), ("Kowalski", 3), ("Silva", 5), ("Santos", 4),
    ("Oliveira", 3), ("O'Brien", 2), ("Murphy", 3), ("Kelly", 3), ("Jansen", 2),
    ("de Vries", 2), ("Johansson", 2), ("Nielsen", 2), ("Novak", 2), ("Horvat", 1),
    ("Papadopoulos", 1), ("Yilmaz", 2), ("Haddad", 1), ("Okafor", 1), ("Mensah", 1),
];

/// A city, its state or region, and its share of its country's customers.
type City = (&'static str, &'static str, u32);

/// Countries with their weights, phone prefixes and cities.
#[rustfmt::skip]
pub(super) const COUNTRIES: &[(&str, u32, &str, &[City])] = &[
    ("USA", 330, "+1", &[("New York", "NY", 30), ("Los Angeles", "CA", 22), ("Chicago", "IL", 15), ("Houston", "TX", 13), ("Phoenix", "AZ", 8), ("Seattle", "WA", 7), ("Boston", "MA", 5)]),
    ("India", 90, "+91", &[("Mumbai", "Maharashtra", 35), ("Delhi", "Delhi", 35), ("Bengaluru", "Karnataka", 30)]),
    ("UK", 70, "+44", &[("London", "England", 55), ("Manchester", "England", 20), ("Edinburgh", "Scotland", 15), ("Cardiff", "Wales", 10)]),
    ("Germany", 60, "+49", &[("Berlin", "Berlin", 35), ("Munich", "Bavaria", 30), ("Hamburg", "Hamburg", 20), ("Cologne", "North Rhine-Westphalia", 15)]),
    ("Canada", 55, "+1", &[("Toronto", "ON", 45), ("Vancouver", "BC", 30), ("Montreal", "QC", 25)]),
    ("Brazil", 45, "+55", &[("Sao Paulo", "SP", 60), ("Rio de Janeiro", "RJ", 40)]),
    ("France", 40, "+33", &[("Paris", "Ile-de-France", 60), ("Lyon", "Auvergne-Rhone-Alpes", 20), ("Marseille", "Provence", 20)]),
    ("Japan", 35, "+81", &[("Tokyo", "Tokyo", 65), ("Osaka", "Osaka", 35)]),
    ("Australia", 30, "+61", &[("Sydney", "NSW", 55), ("Melbourne", "VIC", 45)]),
    ("Mexico", 28, "+52", &[("Mexico City", "CDMX", 60), ("Guadalajara", "Jalisco", 40)]),
    ("Spain", 25, "+34", &[("Madrid", "Madrid", 55), ("Barcelona", "Catalonia", 45)]),
    ("Italy", 24, "+39", &[("Rome", "Lazio", 50), ("Milan", "Lombardy", 50)]),
    ("China", 22, "+86", &[("Shanghai", "Shanghai", 55), ("Beijing", "Beijing", 45)]),
    ("Netherlands", 18, "+31", &[("Amsterdam", "North Holland", 60), ("Rotterdam", "South Holland", 40)]),
    ("South Korea", 16, "+82", &[("Seoul", "Seoul", 75), ("Busan", "Busan", 25)]),
    ("Sweden", 12, "+46", &[("Stockholm", "Stockholm", 70), ("Gothenburg", "Vastra Gotaland", 30)]),
    ("Poland", 12, "+48", &[("Warsaw", "Masovia", 60), ("Krakow", "Lesser Poland", 40)]),
    ("Ireland", 10, "+353", &[("Dublin", "Leinster", 80), ("Cork", "Munster", 20)]),
    ("Switzerland", 10, "+41", &[("Zurich", "Zurich", 60), ("Geneva", "Geneva", 40)]),
    ("Argentina", 9, "+54", &[("Buenos Aires", "Buenos Aires", 100)]),
    ("Nigeria", 9, "+234", &[("Lagos", "Lagos", 70), ("Abuja", "FCT", 30)]),
    ("South Africa", 8, "+27", &[("Johannesburg", "Gauteng", 60), ("Cape Town", "Western Cape", 40)]),
    ("Singapore", 8, "+65", &[("Singapore", "Singapore", 100)]),
    ("Norway", 6, "+47", &[("Oslo", "Oslo", 100)]),
    ("Denmark", 6, "+45", &[("Copenhagen", "Capital Region", 100)]),
    ("Belgium", 6, "+32", &[("Brussels", "Brussels", 60), ("Antwerp", "Flanders", 40)]),
    ("Austria", 5, "+43", &[("Vienna", "Vienna", 100)]),
    ("Portugal", 5, "+351", &[("Lisbon", "Lisbon", 65), ("Porto", "Porto", 35)]),
    ("New Zealand", 4, "+64", &[("Auckland", "Auckland", 70), ("Wellington", "Wellington", 30)]),
    ("Turkey", 4, "+90", &[("Istanbul", "Istanbul", 75), ("Ankara", "Ankara", 25)]),
];

/// The languages customers of each country prefer, as BCP 47 tags in canonical case, with
/// their weights (a country missing here gives no preferred language).
#[rustfmt::skip]
pub(super) const LANGUAGES: &[(&str, &[(&str, u32)])] = &[
    ("USA", &[("en-US", 82), ("es-US", 13), ("zh-Hans", 3), ("vi", 2)]),
    ("India", &[("en-IN", 45), ("hi-IN", 38), ("ta-IN", 9), ("bn-IN", 8)]),
    ("UK", &[("en-GB", 95), ("cy-GB", 5)]),
    ("Germany", &[("de-DE", 90), ("tr", 5), ("en", 5)]),
    ("Canada", &[("en-CA", 75), ("fr-CA", 25)]),
    ("Brazil", &[("pt-BR", 100)]),
    ("France", &[("fr-FR", 95), ("en", 5)]),
    ("Japan", &[("ja-JP", 100)]),
    ("Australia", &[("en-AU", 100)]),
    ("Mexico", &[("es-MX", 100)]),
    ("Spain", &[("es-ES", 80), ("ca-ES", 20)]),
    ("Italy", &[("it-IT", 100)]),
    ("China", &[("zh-Hans-CN", 100)]),
    ("Netherlands", &[("nl-NL", 100)]),
    ("South Korea", &[("ko-KR", 100)]),
    ("Sweden", &[("sv-SE", 100)]),
    ("Poland", &[("pl-PL", 100)]),
    ("Ireland", &[("en-IE", 90), ("ga-IE", 10)]),
    ("Switzerland", &[("de-CH", 60), ("fr-CH", 30), ("it-CH", 10)]),
    ("Argentina", &[("es-AR", 80), ("es-419", 20)]),
    ("Nigeria", &[("en-NG", 80), ("yo-NG", 10), ("ha-NG", 10)]),
    ("South Africa", &[("en-ZA", 60), ("af-ZA", 25), ("zu-ZA", 15)]),
    ("Singapore", &[("en-SG", 60), ("zh-Hans-SG", 30), ("ms-SG", 10)]),
    ("Norway", &[("nb-NO", 90), ("nn-NO", 10)]),
    ("Denmark", &[("da-DK", 100)]),
    ("Belgium", &[("nl-BE", 55), ("fr-BE", 45)]),
    ("Austria", &[("de-AT", 100)]),
    ("Portugal", &[("pt-PT", 100)]),
    ("New Zealand", &[("en-NZ", 90), ("mi-NZ", 10)]),
    ("Turkey", &[("tr-TR", 100)]),
];

/// Street names for address lines.
#[rustfmt::skip]
pub(super) const STREETS: &[&str] = &[
    "Main St", "Oak Ave", "Maple Dr", "Park Rd", "Cedar Ln", "High St", "Church Rd",
    "Station Rd", "Mill Ln", "Elm St", "Lake View", "Hillside Ave", "River Rd", "Sunset Blvd",
    "King St", "Queen St", "Market Sq", "Garden Way", "Bridge St", "Forest Dr",
];

/// Mail domains (reserved example names only) and their weights.
#[rustfmt::skip]
pub(super) const EMAIL_DOMAINS: &[(&str, u32)] = &[
    ("example.com", 40), ("example.net", 20), ("example.org", 15), ("mail.example.com", 10),
    ("inbox.example.net", 8), ("corp.example.org", 7),
];

/// Tag sets (normalised: lower-case, no duplicates) and their weights; a small vocabulary.
#[rustfmt::skip]
pub(super) const TAG_SETS: &[(&str, u32)] = &[
    ("", 30), ("new", 10), ("premium", 8), ("vip", 3), ("newsletter", 8), ("premium,tech", 5),
    ("tech", 6), ("retail", 6), ("wholesale", 3), ("enterprise", 3), ("student", 4),
    ("loyal", 5), ("loyal,premium", 3), ("beta", 2), ("churn-risk", 3), ("new,newsletter", 4),
    ("enterprise,tech", 2), ("retail,loyal", 2), ("vip,premium,loyal", 1), ("student,beta", 1),
];

/// Words company names are made of, and the legal suffixes after them.
#[rustfmt::skip]
pub(super) const COMPANY_WORDS: &[&str] = &[
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
    "Cyberdyne", "Tyrell", "Wonka", "Gringotts", "Oscorp", "Aperture", "Massive", "Dynamic",
    "Blue", "Green", "Summit", "Pioneer", "Apex", "Nova", "Vertex", "Quantum", "Silver",
];
#[rustfmt::skip]
pub(super) const COMPANY_SUFFIXES: &[&str] = &[
    "Inc", "LLC", "Ltd", "GmbH", "Group", "Systems", "Labs", "Partners", "Holdings", "Co",
];
