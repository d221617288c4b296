#include "emulate/synthetic.h"

#include <array>
#include <cstdio>
#include <unordered_set>

#include "core/civil_day.h"
#include "core/hex.h"
#include "emulate/prng.h"

namespace pinpipe::emulate {
namespace {

// Rates from DATA_FACTS.md. Where a value is implied by a fully broken row (0.8% of rows carry
// every placeholder at once), the independent rate below is what remains for the other rows, so
// the overall rate comes out as documented.
constexpr double kBrokenRow = 0.008;
constexpr double kFollowerPlain = 0.18;
constexpr double kFollowerK = 0.745;  // the rest (~7.5%) is "<n>M"
constexpr double kPosterPadded = 0.02;
constexpr double kTitleTrailingSpace = 0.015;
constexpr double kTitleTrailingNewline = 0.005;
constexpr double kTitleCyrillic = 0.05;
constexpr double kTitleTurkish = 0.05;
constexpr double kTitleEmoji = 0.02;
constexpr double kDescBare = 0.015;
constexpr double kDescUntitled = 0.002;
constexpr double kDescTruncated = 0.395;  // of generated descriptions (~91% of rows) -> ~36%
constexpr double kDescBackslash = 0.005;
constexpr double kDescQuotes = 0.03;
constexpr double kTagsPlaceholder = 0.006;  // + broken rows -> ~1.4%
constexpr double kVideo = 0.03;
constexpr double kMultiVideoRate = 0.0625;    // + broken rows -> ~7%
constexpr double kImageSrcErrorRate = 0.016;  // + broken rows -> ~2.4%

constexpr std::array<std::string_view, 13> kCategories = {
    "christmas", "art",    "quotes",       "education", "diy-and-crafts",
    "finance",   "travel", "mens-fashion", "tattoos",   "event-planning",
    "vehicles",  "beauty", "home-decor"};

const std::vector<std::string_view> kCountryList = {
    "Afghanistan",
    "Albania",
    "Algeria",
    "American Samoa",
    "Andorra",
    "Angola",
    "Anguilla",
    "Antarctica (the territory South of 60 deg S)",
    "Antigua and Barbuda",
    "Argentina",
    "Armenia",
    "Aruba",
    "Australia",
    "Austria",
    "Azerbaijan",
    "Bahamas",
    "Bahrain",
    "Bangladesh",
    "Barbados",
    "Belarus",
    "Belgium",
    "Belize",
    "Benin",
    "Bermuda",
    "Bhutan",
    "Bolivia",
    "Bosnia and Herzegovina",
    "Botswana",
    "Bouvet Island (Bouvetoya)",
    "Brazil",
    "British Indian Ocean Territory (Chagos Archipelago)",
    "British Virgin Islands",
    "Brunei Darussalam",
    "Bulgaria",
    "Burkina Faso",
    "Burundi",
    "Cambodia",
    "Cameroon",
    "Canada",
    "Cape Verde",
    "Cayman Islands",
    "Central African Republic",
    "Chad",
    "Chile",
    "China",
    "Christmas Island",
    "Cocos (Keeling) Islands",
    "Colombia",
    "Comoros",
    "Congo (Brazzaville)",
    "Congo (Kinshasa)",
    "Cook Islands",
    "Costa Rica",
    "Cote d'Ivoire",
    "Croatia",
    "Cuba",
    "Cyprus",
    "Czech Republic",
    "Denmark",
    "Djibouti",
    "Dominica",
    "Dominican Republic",
    "Ecuador",
    "Egypt",
    "El Salvador",
    "Equatorial Guinea",
    "Eritrea",
    "Estonia",
    "Ethiopia",
    "Faroe Islands",
    "Falkland Islands (Malvinas)",
    "Fiji",
    "Finland",
    "France",
    "French Guiana",
    "French Polynesia",
    "French Southern Territories",
    "Gabon",
    "Gambia",
    "Georgia",
    "Germany",
    "Ghana",
    "Gibraltar",
    "Greece",
    "Greenland",
    "Grenada",
    "Guadeloupe",
    "Guam",
    "Guatemala",
    "Guernsey",
    "Guinea",
    "Guinea-Bissau",
    "Guyana",
    "Haiti",
    "Heard Island and McDonald Islands",
    "Holy See (Vatican City State)",
    "Honduras",
    "Hong Kong",
    "Hungary",
    "Iceland",
    "India",
    "Indonesia",
    "Iran",
    "Iraq",
    "Ireland",
    "Isle of Man",
    "Israel",
    "Italy",
    "Jamaica",
    "Japan",
    "Jersey",
    "Jordan",
    "Kazakhstan",
    "Kenya",
    "Kiribati",
    "Korea",
    "Kuwait",
    "Kyrgyz Republic",
    "Lao People's Democratic Republic",
    "Latvia",
    "Lebanon",
    "Lesotho",
    "Liberia",
    "Libyan Arab Jamahiriya",
    "Liechtenstein",
    "Lithuania",
    "Luxembourg",
    "Macao",
    "North Macedonia",
    "Madagascar",
    "Malawi",
    "Malaysia",
    "Maldives",
    "Mali",
    "Malta",
    "Marshall Islands",
    "Martinique",
    "Mauritania",
    "Mauritius",
    "Mayotte",
    "Mexico",
    "Micronesia",
    "Moldova",
    "Monaco",
    "Mongolia",
    "Montenegro",
    "Montserrat",
    "Morocco",
    "Mozambique",
    "Myanmar",
    "Namibia",
    "Nauru",
    "Nepal",
    "Netherlands Antilles",
    "Netherlands",
    "New Caledonia",
    "New Zealand",
    "Nicaragua",
    "Niger",
    "Nigeria",
    "Niue",
    "Norfolk Island",
    "Northern Mariana Islands",
    "Norway",
    "Oman",
    "Pakistan",
    "Palau",
    "Palestinian Territory",
    "Panama",
    "Papua New Guinea",
    "Paraguay",
    "Peru",
    "Philippines",
    "Pitcairn Islands",
    "Poland",
    "Portugal",
    "Puerto Rico",
    "Qatar",
    "Reunion",
    "Romania",
    "Russian Federation",
    "Rwanda",
    "Saint Barthelemy",
    "Saint Helena",
    "Saint Kitts and Nevis",
    "Saint Lucia",
    "Saint Martin",
    "Saint Pierre and Miquelon",
    "Saint Vincent and the Grenadines",
    "Samoa",
    "San Marino",
    "Sao Tome and Principe",
    "Saudi Arabia",
    "Senegal",
    "Serbia",
    "Seychelles",
    "Sierra Leone",
    "Singapore",
    "Slovakia (Slovak Republic)",
    "Slovenia",
    "Solomon Islands",
    "Somalia",
    "South Africa",
    "South Georgia and the South Sandwich Islands",
    "Spain",
    "Sri Lanka",
    "Sudan",
    "Suriname",
    "Svalbard & Jan Mayen Islands",
    "Swaziland",
    "Sweden",
    "Switzerland",
    "Syrian Arab Republic",
    "Taiwan",
    "Tajikistan",
    "Tanzania",
    "Thailand",
    "Timor-Leste",
    "Togo",
    "Tokelau",
    "Tonga",
    "Trinidad & Tobago",
    "Tunisia",
    "Turkey",
    "Turkmenistan",
    "Turks and Caicos Islands",
    "Tuvalu",
    "Uganda",
    "Ukraine",
    "United Arab Emirates",
    "United Kingdom",
    "United States of America",
    "United States Minor Outlying Islands",
    "United States Virgin Islands",
    "Uruguay",
    "Uzbekistan",
    "Vanuatu",
    "Venezuela",
    "Vietnam",
    "Wallis and Futuna",
    "Western Sahara",
    "Yemen",
    "Zambia",
    "Zimbabwe",
    "Saint Kitts & Nevis",
    "Bonaire, Sint Eustatius and Saba",
    "Curacao",
    "Sint Maarten (Dutch part)",
    "South Sudan",
    "Kosovo",
    "Aland Islands",
    "Eswatini",
    "Cabo Verde",
    "Czechia",
    "Myanmar (Burma)"};

constexpr std::array<std::string_view, 48> kFirstNames = {
    "Alexandria", "Andrew",    "Abigail",   "Aaron",   "Brittany", "Bryan",     "Christopher",
    "Charles",    "Christian", "Daniel",    "Dylan",   "Donald",   "Elizabeth", "Emily",
    "Gabrielle",  "Jennifer",  "Joshua",    "James",   "Jessica",  "Julie",     "Kevin",
    "Kimberly",   "Lisa",      "Laura",     "Michael", "Maria",    "Matthew",   "Melissa",
    "Nicholas",   "Nathan",    "Patricia",  "Paul",    "Rachel",   "Robert",    "Ryan",
    "Sarah",      "Samantha",  "Stephanie", "Steven",  "Thomas",   "Tiffany",   "Valerie",
    "Victoria",   "William",   "Xavier",    "Yvonne",  "Zachary",  "Angela"};
constexpr std::array<std::string_view, 40> kLastNames = {
    "Alvarado", "Anderson", "Bailey",   "Brown",    "Burgess", "Clark",    "Cox",       "Davis",
    "Edwards",  "Evans",    "Garcia",   "Gomez",    "Hale",    "Harris",   "Hill",      "Jackson",
    "Johnson",  "Jones",    "Lee",      "Lopez",    "Martin",  "Martinez", "Miller",    "Moore",
    "Nelson",   "Perez",    "Phillips", "Ramirez",  "Roberts", "Robinson", "Rodriguez", "Scott",
    "Smith",    "Taylor",   "Thomas",   "Thompson", "Walker",  "White",    "Williams",  "Wilson"};

constexpr std::array<std::string_view, 24> kPosterWords = {
    "Studio", "Home",   "Design", "Crafts", "Living", "Daily",   "Style",  "Kitchen",
    "Ideas",  "Blog",   "Co.",    "Life",   "Art",    "Decor",   "Travel", "Money",
    "Ink",    "Garage", "Beauty", "Quotes", "Events", "Fashion", "Makes",  "Journal"};

constexpr std::array<std::string_view, 40> kWords = {
    "easy",    "ideas",   "diy",     "simple", "beautiful", "modern",  "vintage", "tattoo",
    "outfit",  "gift",    "holiday", "budget", "decor",     "wedding", "party",   "paint",
    "drawing", "quote",   "travel",  "guide",  "tips",      "money",   "saving",  "classroom",
    "kids",    "teacher", "car",     "truck",  "makeup",    "hair",    "nails",   "living room",
    "kitchen", "bedroom", "cozy",    "winter", "summer",    "spring",  "minimal", "rustic"};

// Non-ASCII titles as they occur: Russian and Turkish pins.
constexpr std::array<std::string_view, 8> kCyrillicTitles = {
    "Новогодний декор своими руками", "Идеи для маникюра",
    "Как рисовать акварелью",         "Цитаты о жизни",
    "Татуировки для девушек",         "Интерьер гостиной",
    "Подарки на Рождество",           "Мужской стиль"};
constexpr std::array<std::string_view, 8> kTurkishTitles = {"Yılbaşı süsleri için kolay fikirler",
                                                            "Güzel sözler ve alıntılar",
                                                            "Şık erkek kombinleri",
                                                            "Dövme fikirleri",
                                                            "Ev dekorasyonu önerileri",
                                                            "Çocuklar için etkinlikler",
                                                            "Düğün hazırlığı listesi",
                                                            "Ğüzel makyaj ipuçları"};
constexpr std::array<std::string_view, 8> kEmoji = {
    "\xF0\x9F\x8E\x84", "\xF0\x9F\x98\x8D", "\xE2\x9C\xA8",     "\xE2\x9D\xA4\xEF\xB8\x8F",
    "\xF0\x9F\x94\xA5", "\xF0\x9F\x8C\xB8", "\xF0\x9F\x92\xB0", "\xF0\x9F\x9A\x97"};

template <typename Container>
std::string_view Pick(Prng& rng, const Container& items) {
  return items[rng.Index(items.size())];
}

std::string Capitalized(std::string_view word) {
  std::string out(word);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 32);
  return out;
}

std::string Hex(Prng& rng, size_t digits) {
  std::string out;
  out.reserve(digits);
  for (size_t i = 0; i < digits; ++i)
    out += core::HexDigit(static_cast<unsigned>(rng.Uniform(0, 15)));
  return out;
}

std::string Uuid(Prng& rng) {
  // Version 4 layout, lowercase.
  std::string out = Hex(rng, 8) + "-" + Hex(rng, 4) + "-4" + Hex(rng, 3) + "-";
  out += "89ab"[rng.Uniform(0, 3)];
  out += Hex(rng, 3) + "-" + Hex(rng, 12);
  return out;
}

// Decimal text with `decimals` digits after the point and a non-zero last digit, so the value
// PostgreSQL prints back for double precision is exactly this text.
std::string Coordinate(Prng& rng, int limit) {
  int decimals = static_cast<int>(rng.Uniform(1, 6));
  int64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  int64_t value = rng.Uniform(-limit * scale + 1, limit * scale - 1);
  if (value % 10 == 0) value += value < 0 ? -1 : 1;
  std::string digits = std::to_string(value < 0 ? -value : value);
  while (digits.size() <= static_cast<size_t>(decimals)) digits.insert(0, "0");
  digits.insert(digits.size() - static_cast<size_t>(decimals), ".");
  return (value < 0 ? "-" : "") + digits;
}

std::string Sentence(Prng& rng, int words) {
  std::string out;
  for (int i = 0; i < words; ++i) {
    if (i > 0) out += ' ';
    out += i == 0 ? Capitalized(Pick(rng, kWords)) : std::string(Pick(rng, kWords));
  }
  return out;
}

std::string PosterName(Prng& rng) {
  switch (rng.Uniform(0, 2)) {
    case 0: return std::string(Pick(rng, kFirstNames)) + " " + std::string(Pick(rng, kLastNames));
    case 1: return std::string(Pick(rng, kLastNames)) + " " + std::string(Pick(rng, kPosterWords));
    default:
      return std::string(Pick(rng, kFirstNames)) + " | " + std::string(Pick(rng, kPosterWords));
  }
}

std::string Title(Prng& rng, std::string_view category) {
  std::string title;
  double language = rng.Real();
  if (language < kTitleCyrillic) {
    title = Pick(rng, kCyrillicTitles);
  } else if (language < kTitleCyrillic + kTitleTurkish) {
    title = Pick(rng, kTurkishTitles);
  } else {
    title = Sentence(rng, static_cast<int>(rng.Uniform(2, 7))) + " " + std::string(category);
  }
  if (rng.Chance(kTitleEmoji)) title += " " + std::string(Pick(rng, kEmoji));
  double tail = rng.Real();
  if (tail < kTitleTrailingSpace) {
    title += ' ';
  } else if (tail < kTitleTrailingSpace + kTitleTrailingNewline) {
    title += '\n';
  }
  return title;
}

std::string Description(Prng& rng) {
  double kind = rng.Real();
  if (kind < kDescBare) return std::string(kNoDescription);
  if (kind < kDescBare + kDescUntitled) return std::string(kUntitled);
  std::string text = Sentence(rng, static_cast<int>(rng.Uniform(6, 30)));
  if (rng.Chance(kDescQuotes)) text += " \"" + Sentence(rng, 3) + "\" " + Sentence(rng, 2);
  if (rng.Chance(kDescBackslash)) text += " \\ " + Sentence(rng, 2) + " C:\\pins\\" + "idea";
  if (rng.Chance(kDescTruncated)) {
    text += std::string(kTruncationSuffix);
  } else {
    text += '.';
  }
  return text;
}

std::string TagList(Prng& rng, std::string_view category) {
  int count = rng.Chance(0.8) ? 9 : static_cast<int>(rng.Uniform(3, 8));
  std::string tags;
  for (int i = 0; i < count; ++i) {
    if (i > 0) tags += ',';
    if (i == 0) {
      tags += Capitalized(category);
    } else {
      tags += Capitalized(Pick(rng, kWords));
      if (rng.Chance(0.5)) tags += " " + std::string(Pick(rng, kWords));
    }
  }
  return tags;
}

std::string FollowerCount(Prng& rng) {
  double kind = rng.Real();
  if (kind < kFollowerPlain) return std::to_string(rng.Uniform(0, 998));
  if (kind < kFollowerPlain + kFollowerK) return std::to_string(rng.Uniform(1, 991)) + "k";
  return std::to_string(rng.Uniform(1, 15)) + "M";
}

PinRow MakePin(Prng& rng, int32_t index, std::unordered_set<std::string>& seen_ids) {
  PinRow pin;
  pin.index = index;
  do {
    pin.unique_id = Uuid(rng);
  } while (!seen_ids.insert(pin.unique_id).second);
  pin.category = Pick(rng, kCategories);
  pin.save_location = "Local save in /data/" + pin.category;
  if (rng.Chance(kBrokenRow)) {
    // A fully broken row: every placeholder at once, as the scraper wrote it.
    pin.title = kNoTitle;
    pin.description = kNoDescriptionStory;
    pin.poster_name = kUserInfoError;
    pin.follower_count = kUserInfoError;
    pin.tag_list = kNoTags;
    pin.is_image_or_video = kMultiVideo;
    pin.image_src = kImageSrcError;
    pin.downloaded = 0;
    return pin;
  }
  pin.title = Title(rng, pin.category);
  pin.poster_name = PosterName(rng);
  if (rng.Chance(kPosterPadded)) {
    pin.poster_name = rng.Chance(0.5) ? " " + pin.poster_name : pin.poster_name + " ";
  }
  pin.follower_count = FollowerCount(rng);
  pin.tag_list = rng.Chance(kTagsPlaceholder) ? std::string(kNoTags) : TagList(rng, pin.category);
  double media = rng.Real();
  pin.is_image_or_video = media < kVideo                     ? "video"
                          : media < kVideo + kMultiVideoRate ? std::string(kMultiVideo)
                                                             : "image";
  // Story pages carry no description of their own.
  pin.description =
      pin.is_image_or_video == kMultiVideo ? std::string(kNoDescriptionStory) : Description(rng);
  if (rng.Chance(kImageSrcErrorRate)) {
    pin.image_src = kImageSrcError;
    pin.downloaded = 0;
  } else {
    std::string hash = Hex(rng, 32);
    std::string dirs = hash.substr(0, 2) + "/" + hash.substr(2, 2) + "/" + hash.substr(4, 2) + "/";
    pin.image_src =
        pin.is_image_or_video == "video"
            ? "https://i.pinimg.com/videos/thumbnails/originals/" + dirs + hash + ".0000001.jpg"
            : "https://i.pinimg.com/originals/" + dirs + hash + ".jpg";
    pin.downloaded = 1;
  }
  return pin;
}

struct Person {
  std::string first_name;
  std::string last_name;
  int32_t age;
  std::string date_joined;
};

}  // namespace

const std::vector<std::string_view>& Categories() {
  static const std::vector<std::string_view> categories(kCategories.begin(), kCategories.end());
  return categories;
}

const std::vector<std::string_view>& Countries() { return kCountryList; }

int64_t UnixSecondsFromCivil(int year, unsigned month, unsigned day) {
  return core::DaysFromCivil(core::CivilDate{year, month, day}) * 86400;
}

std::string FormatTimestamp(int64_t unix_seconds) {
  int64_t days = unix_seconds / 86400;
  int64_t secs = unix_seconds % 86400;
  if (secs < 0) {
    secs += 86400;
    days -= 1;
  }
  const core::CivilDate date = core::CivilOfDay(days);
  const int64_t year = date.year, month = date.month, day = date.day;
  char out[96];
  std::snprintf(out, sizeof(out), "%04lld-%02lld-%02lld %02lld:%02lld:%02lld",
                static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day), static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return out;
}

SyntheticDataSet GenerateDataSet(int32_t rows, uint64_t seed) {
  SyntheticDataSet data;
  if (rows <= 0) return data;
  data.pins.reserve(static_cast<size_t>(rows));
  data.geos.reserve(static_cast<size_t>(rows));
  data.users.reserve(static_cast<size_t>(rows));

  // Independent streams per table, so changing how one table is generated leaves the others as
  // they were for a given seed.
  Prng pin_rng(seed ^ 0x70696e0000000000ULL);
  Prng geo_rng(seed ^ 0x67656f0000000000ULL);
  Prng user_rng(seed ^ 0x7573657200000000ULL);

  std::unordered_set<std::string> seen_ids;
  seen_ids.reserve(static_cast<size_t>(rows) * 2);
  for (int32_t i = 1; i <= rows; ++i) data.pins.push_back(MakePin(pin_rng, i, seen_ids));
  // Exactly one empty title, as in the real data; on a row that is not fully broken.
  for (size_t tries = 0; tries < 100; ++tries) {
    PinRow& pin = data.pins[pin_rng.Index(data.pins.size())];
    if (pin.title != kNoTitle) {
      pin.title.clear();
      break;
    }
  }

  const int64_t geo_from = UnixSecondsFromCivil(2017, 1, 1);
  const int64_t geo_to = UnixSecondsFromCivil(2023, 1, 1) - 1;
  for (int32_t i = 1; i <= rows; ++i) {
    GeoRow geo;
    geo.ind = i;
    geo.timestamp = FormatTimestamp(geo_rng.Uniform(geo_from, geo_to));
    geo.latitude = Coordinate(geo_rng, 90);
    geo.longitude = Coordinate(geo_rng, 180);
    geo.country = Pick(geo_rng, kCountryList);
    data.geos.push_back(std::move(geo));
  }

  // The same person posts many times: draw users from a pool about a fifth the size of the
  // table, so each person appears under ~5 ind values on average.
  const int64_t joined_from = UnixSecondsFromCivil(2015, 1, 1);
  const int64_t joined_to = UnixSecondsFromCivil(2018, 1, 1) - 1;
  std::vector<Person> people;
  const size_t pool = static_cast<size_t>(rows) / 5 + 1;
  people.reserve(pool);
  for (size_t p = 0; p < pool; ++p) {
    people.push_back(Person{std::string(Pick(user_rng, kFirstNames)),
                            std::string(Pick(user_rng, kLastNames)),
                            static_cast<int32_t>(user_rng.Uniform(20, 60)),
                            FormatTimestamp(user_rng.Uniform(joined_from, joined_to))});
  }
  for (int32_t i = 1; i <= rows; ++i) {
    const Person& person = people[user_rng.Index(people.size())];
    data.users.push_back(
        UserRow{i, person.first_name, person.last_name, person.age, person.date_joined});
  }
  return data;
}

}  // namespace pinpipe::emulate
