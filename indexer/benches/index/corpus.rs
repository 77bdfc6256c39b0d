//! Deterministic generator of realistic market listings and of the queries an
//! analyst types. The shapes come from the demo market and the labelled eval
//! corpus: Chinese and Japanese listings (titles with trade cues, bodies of
//! boiler-plate sales talk around bank, ministry and company names, prices in
//! BTC/USDT/円/元), English ones in carder-forum style, a few Russian; bodies
//! 300 bytes to 5 KB, log-uniform; mixed scripts inside one document. Each
//! listing is about one entity and one product, which its body repeats (with
//! an occasional mention of another): the stock sales phrases are common to
//! most listings, names of banks and products to a few percent of them.

use chrono::{DateTime, Utc};
use indexer::IndexDocument;

/// SplitMix64: small, fast, reproducible.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub(crate) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// Log-uniform integer in `lo..hi`.
    pub(crate) fn log_uniform(&mut self, lo: usize, hi: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((lo as f64).ln() + u * ((hi as f64).ln() - (lo as f64).ln())).exp() as usize
    }
}

const SITES: &[&str] = &[
    "deepmix",
    "chinesemarket",
    "exchange",
    "darkfox",
    "nippon-ura",
    "kerberos",
    "torrez",
    "russianmarket",
    "breachforums",
    "xss",
    "exploit",
    "dread",
];

const ZH_ENTITIES: &[&str] = &[
    "中国工商银行",
    "中国建设银行",
    "招商银行",
    "中国银行",
    "农业银行",
    "交通银行",
    "三菱日联银行",
    "瑞穗银行",
    "支付宝",
    "微信",
    "京东",
    "淘宝",
    "拼多多",
    "中国移动",
    "中国联通",
    "顺丰快递",
    "公安部",
    "社保局",
    "国家税务总局",
    "平安保险",
    "华为",
    "腾讯",
    "阿里巴巴",
    "香港汇丰银行",
    "台湾中信银行",
    "三井住友银行",
];
const ZH_PRODUCTS: &[&str] = &[
    "网银账户",
    "四件套",
    "银行卡",
    "实名手机卡",
    "身份证数据",
    "快递数据",
    "个人信息",
    "内部资料",
    "客户数据库",
    "股民数据",
    "车主数据",
    "开房记录",
    "U盾",
    "提现通道",
    "企业账户",
    "注册数据",
    "会员数据",
    "贷款数据",
    "保险客户资料",
    "USDT收款码",
];
const ZH_CUES: &[&str] = &[
    "出售",
    "出",
    "收",
    "求购",
    "批发",
    "低价出",
    "长期收",
    "担保出",
    "全新",
];
const ZH_SENTENCES: &[&str] = &[
    "本人长期出售",
    "数据全部为最新",
    "支持担保交易",
    "量大从优",
    "非诚勿扰",
    "价格私聊",
    "可以先测试",
    "包含姓名、手机号、身份证号、地址",
    "每条数据都是实时更新",
    "欢迎各位老板咨询",
    "诚信第一",
    "有需要的联系",
    "全国各地都有",
    "一手资源",
    "售后包换",
    "下单请备注",
    "支持USDT和比特币付款",
    "飞机联系",
    "不接受砍价",
    "已经有很多老客户回购",
    "质量保证",
    "可以走平台担保",
    "接受定制",
    "数据来源于内部人员",
    "每天更新一次",
    "一共十万条",
    "本店信誉第一",
    "拒绝白嫖",
    "带登录密码",
    "可以远程验证",
    "包过实名认证",
];
const HANZI: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府研";

const JA_ENTITIES: &[&str] = &[
    "三菱UFJ銀行",
    "三菱ＵＦＪ銀行",
    "ゆうちょ銀行",
    "みずほ銀行",
    "三井住友銀行",
    "楽天銀行",
    "楽天カード",
    "ソフトバンク",
    "ドコモ",
    "総務省",
    "経済産業省",
    "日本郵便",
    "PayPay",
    "住信SBIネット銀行",
    "りそな銀行",
    "セブン銀行",
    "ﾕｳﾁｮ銀行",
    "メルカリ",
    "LINE",
];
const JA_PRODUCTS: &[&str] = &[
    "口座",
    "アカウント",
    "通帳セット",
    "キャッシュカード",
    "ログイン情報",
    "顧客リスト",
    "個人情報",
    "社内資料",
    "クレジットカード情報",
    "名簿",
    "法人口座",
];
const JA_CUES: &[&str] = &[
    "売ります",
    "販売",
    "譲ります",
    "買います",
    "買取",
    "即売",
    "【販売】",
];
const JA_SENTENCES: &[&str] = &[
    "即日発送します",
    "本人確認済みの口座です",
    "ネットバンキングのログイン情報付き",
    "エスクロー対応",
    "価格は応相談",
    "まとめ買いで割引あり",
    "通帳とキャッシュカードのセット",
    "法人口座もあります",
    "詳細はTelegramまで",
    "在庫限り",
    "パスワード変更済み",
    "残高は確認できます",
    "返金保証はありません",
    "初めての方も歓迎",
    "大量注文も可能です",
    "ワンタイムパスワードの設定も可能",
    "アカウントは全て手作業で作成",
    "トラブル時はサポートします",
];

const EN_ENTITIES: &[&str] = &[
    "Chase",
    "Bank of America",
    "PayPal",
    "Wells Fargo",
    "HSBC",
    "Barclays",
    "Coinbase",
    "Binance",
    "Amazon",
    "Netflix",
    "Citibank",
    "MUFG",
    "Mizuho",
    "Revolut",
    "Santander",
];
const EN_PRODUCTS: &[&str] = &[
    "bank logs",
    "fullz",
    "fresh CC dumps",
    "database leak",
    "admin panel access",
    "RDP access",
    "combolist",
    "drops",
    "SSN+DOB",
    "accounts with balance",
    "VPN access",
    "source code",
];
const EN_CUES: &[&str] = &["[WTS]", "[WTB]", "Selling", "Buying", "For sale:", "Cheap"];
const EN_SENTENCES: &[&str] = &[
    "Fresh logs with high balance.",
    "Escrow accepted.",
    "Contact on telegram for details.",
    "Price negotiable for bulk buyers.",
    "All data verified before sale.",
    "No refunds after delivery.",
    "Replacement within 24 hours if dead.",
    "Payment in BTC or XMR only.",
    "Vouched seller since 2019.",
    "Samples available on request.",
    "Includes email, password, phone and address.",
    "Do not PM me with lowball offers.",
    "Weekly updates for subscribers.",
    "Works with 2FA bypass.",
];
const RU_SENTENCES: &[&str] = &[
    "Продам базу клиентов",
    "Куплю доступ к панели",
    "Гарант форума",
    "Цена договорная",
    "Свежие логи банков",
    "Работаю только через гаранта",
    "Пишите в личку",
    "Москва и область",
];

const PRICES: &[&str] = &[
    "0.35 [BTC]",
    "$150",
    "USDT 150/个",
    "5,000円",
    "200元",
    "5k$",
    "0.0123 BTC",
    "150U",
    "3万円",
    "¥3000",
    "€20",
    "5000 руб.",
    "0,35 XMR",
    "100美元",
    "价格面议",
    "1.5 BTC",
];

fn handle(rng: &mut Rng) -> String {
    let letters = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let n = 5 + rng.below(8);
    (0..n)
        .map(|_| letters[rng.below(letters.len())] as char)
        .collect()
}

fn hanzi_run(rng: &mut Rng, out: &mut String) {
    let chars: Vec<char> = HANZI.chars().collect();
    for _ in 0..(3 + rng.below(12)) {
        out.push(chars[rng.below(chars.len())]);
    }
}

/// Listing number `i` of the corpus `seed`.
pub(crate) fn listing(seed: u64, i: usize) -> IndexDocument {
    let mut rng = Rng::new(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    let lang = match rng.below(100) {
        0..=44 => "zh",
        45..=74 => "ja",
        75..=94 => "en",
        _ => "ru",
    };
    let target = rng.log_uniform(300, 5000);
    // A listing is about one thing: its title names an entity and a product,
    // and its body comes back to them (and only now and then to others).
    let (entities, products): (&[&str], &[&str]) = match lang {
        "zh" => (ZH_ENTITIES, ZH_PRODUCTS),
        "ja" => (JA_ENTITIES, JA_PRODUCTS),
        _ => (EN_ENTITIES, EN_PRODUCTS),
    };
    let (entity, product) = (rng.pick(entities), rng.pick(products));
    let title = match lang {
        "zh" => format!("【{}】{entity}{product}", rng.pick(ZH_CUES)),
        "ja" => format!("{entity} {product} {}", rng.pick(JA_CUES)),
        "en" => format!("{} {entity} {product}", rng.pick(EN_CUES)),
        _ => format!("{} {entity}", rng.pick(RU_SENTENCES)),
    };
    let mut body = String::new();
    let topic = |rng: &mut Rng, list: &[&'static str], own: &'static str| {
        if rng.chance(90) {
            own
        } else {
            rng.pick(list)
        }
    };
    while body.len() < target {
        match lang {
            "zh" => {
                match rng.below(10) {
                    0 => body.push_str(topic(&mut rng, ZH_ENTITIES, entity)),
                    1 => body.push_str(topic(&mut rng, ZH_PRODUCTS, product)),
                    2 => hanzi_run(&mut rng, &mut body),
                    3 => body.push_str(&format!("飞机 @{} ", handle(&mut rng))),
                    4 => body.push_str(rng.pick(EN_SENTENCES)),
                    _ => body.push_str(rng.pick(ZH_SENTENCES)),
                }
                body.push_str(if rng.chance(30) { "。\n" } else { "，" });
            }
            "ja" => {
                match rng.below(10) {
                    0 => body.push_str(topic(&mut rng, JA_ENTITIES, entity)),
                    1 => body.push_str(topic(&mut rng, JA_PRODUCTS, product)),
                    2 => hanzi_run(&mut rng, &mut body),
                    3 => body.push_str(&format!("連絡先: {}@protonmail.com ", handle(&mut rng))),
                    _ => body.push_str(rng.pick(JA_SENTENCES)),
                }
                body.push_str(if rng.chance(40) { "。\n" } else { "、" });
            }
            "en" => {
                match rng.below(10) {
                    0 => body.push_str(topic(&mut rng, EN_ENTITIES, entity)),
                    1 => body.push_str(topic(&mut rng, EN_PRODUCTS, product)),
                    2 => body.push_str(&format!("{}:{}", handle(&mut rng), handle(&mut rng))),
                    3 => body.push_str(&format!("jabber {}@exploit.im", handle(&mut rng))),
                    _ => body.push_str(rng.pick(EN_SENTENCES)),
                }
                body.push(if rng.chance(20) { '\n' } else { ' ' });
            }
            _ => {
                body.push_str(rng.pick(RU_SENTENCES));
                body.push_str(if rng.chance(50) { ". " } else { ", " });
                if rng.chance(20) {
                    body.push_str(rng.pick(EN_SENTENCES));
                }
            }
        }
    }
    let posted = 1_735_689_600 + rng.below(60 * 86_400 * 11) as i64 * 8;
    let site = rng.pick(SITES).to_string();
    let customers: Vec<String> = if rng.chance(8) {
        vec![format!("customer-{}", rng.below(20))]
    } else {
        Vec::new()
    };
    IndexDocument {
        id: format!("{site}/{i}"),
        url: format!("http://{site}.onion/listing/{i}"),
        site,
        kind: if rng.chance(70) { "listing" } else { "post" }.into(),
        lang: Some(lang.into()),
        title: Some(title),
        body: Some(body),
        price: rng.chance(80).then(|| rng.pick(PRICES).to_string()),
        seller: Some(handle(&mut rng)),
        category: Some(
            rng.pick(&[
                "数据-情报类",
                "账户",
                "口座",
                "Fraud",
                "Databases",
                "Услуги",
            ])
            .to_string(),
        ),
        posted_at: rng
            .chance(90)
            .then(|| DateTime::<Utc>::from_timestamp(posted, 0))
            .flatten(),
        fetched_at: DateTime::<Utc>::from_timestamp(1_790_000_000, 0),
        encoding: Some(if lang == "zh" { "gbk" } else { "utf-8" }.into()),
        alerts: customers.iter().map(|c| format!("{c}/asset")).collect(),
        customers,
        entities: Vec::new(),
    }
}

/// A search an analyst would run.
pub(crate) struct BenchQuery {
    /// What sort of query this is, for the per-kind latencies.
    pub kind: &'static str,
    pub query: String,
    pub site: Option<String>,
    pub customer: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub sort_by_date: bool,
}

/// `n` mixed queries: CJK words and names, English terms, phrases, boolean
/// combinations, fields, one-character queries, with and without filters.
pub(crate) fn queries(seed: u64, n: usize) -> Vec<BenchQuery> {
    let mut rng = Rng::new(seed ^ 0x5151);
    let cjk_words = [
        "银行",
        "銀行",
        "口座",
        "个人信息",
        "身份证",
        "网银",
        "四件套",
        "三菱UFJ",
        "ゆうちょ",
        "ユウチョ",
        "総務省",
        "总务省",
        "みずほ",
        "支付宝",
        "快递数据",
        "客户数据库",
        "ログイン",
        "担保",
        "出售",
        "売ります",
        "工商银行",
        "三井住友",
        "实名",
        "内部资料",
        "通帳",
    ];
    let en_words = [
        "bank logs",
        "paypal",
        "fullz",
        "escrow",
        "chase",
        "mufg",
        "rdp",
        "database",
        "telegram",
        "binance",
    ];
    let chars = ["行", "卡", "数", "銀", "号"];
    (0..n)
        .map(|_| {
            let roll = rng.below(100);
            let kind = match roll {
                0..=29 => "cjk word",
                30..=44 => "latin word",
                45..=52 => "phrase",
                53..=62 => "or",
                63..=69 => "not",
                70..=77 => "field",
                78..=84 => "one char",
                85..=92 => "two words",
                _ => "filters only",
            };
            let query = match roll {
                0..=29 => rng.pick(&cjk_words).to_string(),
                30..=44 => rng.pick(&en_words).to_string(),
                45..=52 => format!(
                    "\"{}\"",
                    rng.pick(&[
                        "银行卡",
                        "网银账户",
                        "本人確認済み",
                        "escrow accepted",
                        "客户数据库"
                    ])
                ),
                53..=62 => format!("{} OR {}", rng.pick(&cjk_words), rng.pick(&en_words)),
                63..=69 => format!("{} NOT {}", rng.pick(&cjk_words), rng.pick(&cjk_words)),
                70..=77 => format!(
                    "{} {}",
                    rng.pick(&[
                        "site:deepmix",
                        "lang:ja",
                        "kind:listing",
                        "currency:btc amount:<1",
                        "currency:usdt"
                    ]),
                    rng.pick(&cjk_words)
                ),
                78..=84 => rng.pick(&chars).to_string(),
                85..=92 => format!("{} {}", rng.pick(&cjk_words), rng.pick(&cjk_words)),
                _ => String::new(),
            };
            BenchQuery {
                kind,
                query,
                site: rng.chance(10).then(|| rng.pick(SITES).to_string()),
                customer: rng.chance(5).then(|| format!("customer-{}", rng.below(20))),
                since: rng
                    .chance(20)
                    .then(|| DateTime::<Utc>::from_timestamp(1_760_000_000, 0))
                    .flatten(),
                sort_by_date: rng.chance(25),
            }
        })
        .collect()
}
