//! The market preset on the real 2018 暗网中文网 pages in
//! `../shared/fixtures/real/anwang-2018/` (beside the checkout, never copied
//! into the repository): every field of each listing, exactly.

mod shared;

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use extract::{extract_page, Document, DocumentKind, EngineChoice, SiteRules};
use url::Url;

fn real_dir() -> Option<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/real/anwang-2018");
    shared::present(&dir).then_some(dir)
}

/// Extracts one saved page with nothing but the market preset, as
/// `leakwatch extract --engine anwang PAGE --url URL` does.
fn extract(file: &str, topic: u32, engine: EngineChoice) -> Option<Document> {
    let dir = real_dir()?;
    let html = std::fs::read_to_string(dir.join(file)).expect("the real page is readable UTF-8");
    let url = Url::parse(&format!(
        "http://bmp3qqimv55xdznb.onion/viewtopic.php?t={topic}"
    ))
    .expect("valid URL");
    // A v2 onion is no longer a crawlable address; the saved page's profile
    // lives on a placeholder root (only ids and link scope use it).
    let base = Url::parse("http://anwang.invalid/").expect("valid URL");
    let profile =
        SiteRules::for_engine("anwang", &base, engine).expect("an engine-only profile loads");
    // The `creation_time` of the saved pages' reply form: 2018-10-31 02:47 UTC.
    let fetched_at = Utc
        .with_ymd_and_hms(2018, 10, 31, 2, 47, 0)
        .single()
        .expect("valid time");
    let mut docs = extract_page(&profile, &url, &html, fetched_at, Some("UTF-8")).documents;
    assert_eq!(docs.len(), 1, "one listing per topic page");
    docs.pop()
}

fn check(doc: &Document, expected: Expected<'_>) {
    assert_eq!(doc.kind, DocumentKind::Listing);
    assert_eq!(doc.id, format!("anwang:{}", expected.listing_number));
    assert_eq!(doc.title.as_deref(), Some(expected.title));
    assert_eq!(doc.listing_number.as_deref(), Some(expected.listing_number));
    assert_eq!(doc.price.as_deref(), Some(expected.btc_price));
    let amount: f64 = expected
        .btc_price
        .trim_end_matches(" BTC")
        .parse()
        .expect("a BTC amount");
    assert_eq!(doc.price_amount, Some(amount));
    assert_eq!(doc.price_currency.as_deref(), Some("BTC"));
    assert_eq!(
        doc.extra.get("price_usd").map(String::as_str),
        Some(expected.usd_price)
    );
    assert_eq!(
        doc.extra.get("trade_type").map(String::as_str),
        Some("出售")
    );
    assert_eq!(doc.seller.as_deref(), Some(expected.seller));
    assert_eq!(doc.category.as_deref(), Some(expected.category));
    assert_eq!(doc.posted_at.as_deref(), Some(expected.posted_at));
    assert_eq!(doc.body.as_deref(), Some(expected.body));
}

struct Expected<'a> {
    title: &'a str,
    listing_number: &'a str,
    btc_price: &'a str,
    usd_price: &'a str,
    seller: &'a str,
    category: &'a str,
    posted_at: &'a str,
    body: &'a str,
}

const MEDICAL_DATA: Expected<'static> = Expected {
    title: "[一手]全国100W医患数据",
    listing_number: "8647",
    btc_price: "1 BTC",
    usd_price: "6264.43 美元",
    seller: "fullbitmin",
    category: "数据-情报类",
    // 2018年-8月-29日 19:16 in Beijing time.
    posted_at: "2018-08-29T11:16:00Z",
    // The inline attachment (a sample image and its file size) is not text.
    body: "全国100W医患数据,身份证,手机号,姓名,部分有家庭住址,医保卡号(患者登记就有),及家庭成员的上述信息\n数据一手,七月最新获取",
};

#[test]
fn medical_data_listing() {
    if let Some(doc) = extract(
        "ff5006c3b65567793eeb35908ec79ee6.html",
        8647,
        EngineChoice::parse("anwang").expect("known"),
    ) {
        check(&doc, MEDICAL_DATA);
    }
}

#[test]
fn sms_interception_listing() {
    let Some(doc) = extract(
        "ff82692643cec7d227215259446b4838.html",
        11568,
        EngineChoice::parse("anwang").expect("known"),
    ) else {
        return;
    };
    check(
        &doc,
        Expected {
            title: "出售短信拦截设备",
            listing_number: "11568",
            btc_price: "0.05 BTC",
            usd_price: "313.34 美元",
            seller: "aboys11",
            category: "实体物品类",
            posted_at: "2018-10-03T13:58:00Z",
            body: "出售短信拦截设备，可拦截短信验证码，带话费项目、通道、支付宝、银行卡等项目！提供查卡等技术！快递保密发货！付款后私信我留下大陆收货地址，我将第一时间快递给你！并私信给你快递单号！（警惕:该项目属于黑产，有一定风险，操作过程一定要隐蔽，同时不能够固定在一个地方操作）",
        },
    );
}

#[test]
fn payment_system_listing() {
    let Some(doc) = extract(
        "ffecd13ca9772ceb8c33255e41dd4285.html",
        9714,
        EngineChoice::parse("anwang").expect("known"),
    ) else {
        return;
    };
    check(
        &doc,
        Expected {
            title: "租售 三方 四方支付系统 Java源码",
            listing_number: "9714",
            btc_price: "1 BTC",
            usd_price: "6268.91 美元",
            // The 账户名称 of the 交易信息 block; the post signs as "PojoAnLin".
            seller: "pojoanlin",
            category: "服务-接单类",
            posted_at: "2018-09-11T03:04:00Z",
            body: PAYMENT_SYSTEM_BODY,
        },
    );
}

#[test]
fn auto_recognises_the_market() {
    // With no engine named, the page itself says it is the market.
    if let Some(doc) = extract(
        "ff5006c3b65567793eeb35908ec79ee6.html",
        8647,
        EngineChoice::Auto,
    ) {
        check(&doc, MEDICAL_DATA);
    }
}

/// The first post, line by line (its <br> breaks; blank lines and the
/// indentation dropped; the attached pay.zip is not text).
const PAYMENT_SYSTEM_BODY: &str = concat!(
    "系统由基于乐富支付源代码改写，分布式架构，每秒可处理10万笔订单。 安全 可靠 高效的首选\n",
    "支付方式可任意添加（需自带上游渠道），现有支付宝固码流程 配置后可直接上线跑交易（支付宝固码：个人或者企业收款码 0费率 抗投诉 可做灰色交易）\n",
    "三个不同角色的管理后台 大致功能如下:\n",
    "1.运营系统\n",
    "新增用户，用户查询，新增商户，新增服务商，新增路由，新增商户路由，新增接口提供方，新增接口信息，订单查询，商户路由查询，系统公告，商户入网，商户信息，商户密钥，商户代付密码，付款订单，付款审核，付款配置，接口信息，接口请求，路由模版，商户路由，付款路由，商户费率，账户信息，账户历史，账户调账，交易订单，经营分析，服务商入网，服务商信息，服务商费率，商户审核，用户代付配置，接口对账单配置，接口对账单下载，服务商结算信息，商户结算信息，运营菜单管理，商户菜单管理，服务商菜单管理，运营功能管理，商户功能管理，服务商功能管理，字典类型管理，接口提供方查询，代收订单查询，用户代收配置，代收路由，名单管理，角色管理，代付路由，字典管理，冻结解冻，POS信息，POS请求记录，商户交易配置，用户登陆日志，设备生产订单，设备管理，设备采购审核，设备类型管理，服务商审核，文档信息，收款方配置，广告管理，意见反馈，客户端版本管理，微信菜单管理，OEM版本管理，对帐查询，接口对账配置，网点管理，秘钥管理，Mcc管理，POS订单，交易卡管理，实名认证配置，实名认证订单，认证信息，POS分配/绑定，消息通道管理，POS申请记录，会员卡查询。\n",
    "2.代理（服务）商系统\n",
    "交易查询，提现查询，账户明细，提现密码，商户信息，结算卡管理，费率信息，登陆密码，账户信息，分润信息，商户入网，提现，代收订单查询，操作员列表，角色管理，服务商查询，服务商入网，设备采购订单，设备管理，商户审核，POS信息，POS分配，APP意见反馈，客户端广告，POS订单。\n",
    "3.商户系统\n",
    "交易查询，代付查询，代付审核，代付申请，代付密码，代付密钥，交易密钥，结算卡管理，费率信息，登陆密码，账户信息，收款人管理，账务明细，充值，提现，代收查询，代收密钥，操作员列表，名单管理，角色管理，角色等级，风险管理，角色费率，分润管理，会员审核，会员管理，添加会员，广告管理，意见反馈，结算卡管理，注册码管理，客户端维护，设备管理，通道管理，会员调账，对账单下载，POS信息，POS订单。\n",
    "可按需求定制 收费视难易程度商定。\n",
    "租用：\n",
    "系统按季度（3个自然月）收取服务费（1BTC），服务器以及数据库相关费用由买方承担（可任意地区部署）。免费对接3个支付通道，超过后需付费（300USD等值BTC）。\n",
    "售卖：\n",
    "提供一手源码数据库结构（6BTC），需提供技术支持的按一年1BTC收费。\n",
    "由于虚拟物品的可复制性，一经售出或部署 不接受任何形式上的退款。拍下后留联系方式！只支持站内担保交易！\n",
    "附件已经上传随机选取的片段代码，可自行下载查阅。",
);
