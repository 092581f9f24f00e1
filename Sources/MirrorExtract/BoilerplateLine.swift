/// Short lines that are page furniture even inside an article's container, recognised by their
/// words rather than by markup: many templates write them as plain `<p>`s between the body's
/// paragraphs, where no class name gives them away.
///
/// Five kinds, each only on a short line (a sentence that merely starts like one is prose):
/// - **reading prompts**: `Read more: …`, `Lesen Sie auch`, `À lire aussi`, `Lea también: …`,
///   `Czytaj więcej`, `相关阅读` (at most 60 characters, or up to 160 when most of the line is
///   the link it announces);
/// - **share, follow and subscribe calls**: `Share this article`, `Diesen Artikel teilen`,
///   `Síguenos en Telegram`, `Kostenlos zum Newsletter anmelden`;
/// - **labels of the page's metadata**: `Quelle: dpa`, `Credit:`, `Foto: …`, `Kategorie: News`,
///   `Posted on`, `Last updated`, `opublikowano:` (at most 60 characters), and a blog engine's
///   line under the post (`This entry was posted on … and is filed under …`, up to 300);
/// - **copyright and credit lines**: `© 2024 …`, `… | © Getty Images`, `All rights reserved`
///   in its languages (up to 200 characters);
/// - **a date, a time or a reading time alone**: `23.10.2018`, `3:59 PM`, `January 13`,
///   `5 min read`, `Lesezeit: 3 Minuten`;
/// - **counters**: numbers with only words that count views, reads, comments, likes or shares
///   (`1.2k views`, `Post views: 318`, `812 mal gelesen | 9 Kommentare`, `Viewed 57 times`,
///   `318 people read this article`, `阅读 3,210 次`, `已有1024人阅读`, `评论(12)`), at most 60
///   characters; a counter in an element named for one (`view-count`, `post-views`) goes
///   with it (`ClassWords.discard`).
///
/// Leaving them out keeps revisions about the article: a "read also" line changes with every
/// new story on the site, a date line with every update, and a counter with every reader (a
/// page showing one had made a new revision at every check). The phrases are the ones seen on
/// real news pages in English, German, French, Spanish, Italian, Portuguese, Polish and
/// Chinese (trafilatura's evaluation set marks such lines as boilerplate).
enum BoilerplateLine {
    /// Whether a rendered block is furniture.
    /// - Parameters:
    ///   - text: the block's normalized text.
    ///   - linkShare: the share of its non-space characters inside links (0...1).
    static func matches(_ text: String, linkShare: Double) -> Bool {
        var n = 0
        for _ in text.unicodeScalars {
            n += 1
            if n > 300 { return false }
        }
        // Matching works on UTF-8 bytes: Foundation's `String.contains` cost 9 % of extraction.
        let lowered = text.lowercased()
        if n <= 200, isCopyright(Array(lowered.utf8)) { return true }
        // Leading arrows, bullets and quotes (`» Lesen Sie auch`, `► Read more`, `*Anzeige`);
        // French typography puts a space before a colon (`Crédits photos : …`), some templates too.
        var s: [UInt8] = []
        for b in String(lowered.unicodeScalars.drop { !$0.properties.isAlphabetic && $0.properties.numericType == nil }).utf8 {
            if b == 0x3A, s.last == 0x20 { s.removeLast() }
            s.append(b)
        }
        guard !s.isEmpty else { return false }
        if startsWithAny(s, postMetadata) { return true }
        guard n <= 160 else { return false }
        if n <= 60 || linkShare >= 0.5, startsWithAny(s, prompts) { return true }
        if n <= 120, startsWithAny(s, calls) || containsAny(s, callsAnywhere) { return true }
        if n <= 80, startsWithAny(s, labels) { return true }
        if n <= 120, metadataBar(s) { return true }
        if n <= 40, containsAny(s, readingTime) { return true }
        if n <= 32, dateOrTimeOnly(String(decoding: s, as: UTF8.self)) { return true }
        if n <= 60, counterOnly(lowered) { return true }
        return false
    }

    /// Numbers and the words that count something readers do, and nothing else: at least one
    /// number and one counting word (`counterWords`); punctuation and symbols between them
    /// (`:`, `|`, `·`, brackets) are ignored, and a `k`, `m`, `万` or `千` may follow a number.
    /// A sentence about a count ("This article has 32 comments") has other words, and stays.
    /// - Parameter s: the lowercased line.
    static func counterOnly(_ s: String) -> Bool {
        var number = false, counter = false
        var word = String.UnicodeScalarView()
        var afterNumber = false  // a magnitude (`1.2k`, `3万`) may follow
        func wordEnds() -> Bool {
            guard !word.isEmpty else { return true }
            let w = String(word)
            word = String.UnicodeScalarView()
            defer { afterNumber = false }
            if counterWords.contains(w) {
                counter = true
                return true
            }
            return (afterNumber && magnitudes.contains(w)) || counterFillers.contains(w)
        }
        for scalar in s.unicodeScalars {
            // Digits, full-width ones too (`阅读１２３次`); CJK numerals are words.
            if scalar.value < 0x2E80 || (0xFF10...0xFF19).contains(scalar.value), scalar.properties.numericType != nil {
                guard wordEnds() else { return false }
                number = true
                afterNumber = true
            } else if scalar == "万" || scalar == "千" {
                guard wordEnds(), afterNumber else { return false }
            } else if scalar.properties.isAlphabetic {
                word.append(scalar)
            } else {
                guard wordEnds() else { return false }
                if !scalar.properties.isWhitespace, scalar != ",", scalar != "." { afterNumber = false }
            }
        }
        return wordEnds() && number && counter
    }

    /// Words that count views, reads, comments, likes and shares, in the languages above and
    /// Russian and Japanese (`次` is the Chinese measure word of "times").
    static let counterWords: Set<String> = [
        "view", "views", "reads", "comment", "comments", "like", "likes", "share", "shares", "replies", "hits", "clicks",
        "aufrufe", "zugriffe", "kommentar", "kommentare", "gelesen", "vues", "vue", "lectures", "commentaire",
        "commentaires", "partages", "visitas", "vistas", "lecturas", "comentario", "comentarios", "visualizzazioni",
        "letture", "commenti", "visualizações", "leituras", "comentários", "wyświetleń", "wyświetlenia", "odsłon",
        "komentarzy", "komentarze", "komentarz", "просмотров", "просмотра", "просмотр", "комментариев", "комментария",
        "阅读", "阅读量", "阅读数", "浏览", "浏览量", "浏览次数", "点击", "点击量", "点击数", "评论", "评论数", "点赞", "次",
        "人阅读", "人浏览", "次阅读", "次浏览", "閱讀", "瀏覽", "評論", "閲覧数", "コメント", "seitenaufrufe",
        "beitragsaufrufe", "viewed", "visited", "read", "visits", "visitors", "readers", "人次", "人看过", "人已读",
    ]
    /// Words a counter line may also have: `Post views`, `812 mal gelesen`, `Seitenaufrufe`.
    static let counterFillers: Set<String> = ["post", "page", "mal", "total", "times", "people", "this", "article",
                                              "story", "today", "heute", "aujourd", "hui", "hoy", "已有", "共有", "累计", "今日"]
    /// Letters that scale the number before them (`1.2k`); `万` and `千` are read apart, as CJK
    /// has no space before the counting word (`1.2万阅读`).
    static let magnitudes: Set<String> = ["k", "m"]

    /// Reading prompts that announce another article.
    static let prompts: [[UInt8]] = bytes([
        // English
        "read more", "read also", "also read", "read next", "see also", "related:", "related articles", "related stories",
        "related content", "related posts", "more on this", "more from", "you may also like", "you might also like",
        "recommended for you", "don't miss", "more stories",
        // German
        "lesen sie auch", "lesen sie mehr", "lesen sie hier", "lesen sie weiter", "mehr zum thema", "mehr zu diesem thema",
        "auch interessant", "ebenfalls interessant", "das könnte sie auch interessieren", "das könnte dich auch interessieren",
        "das thema könnte", "schon gelesen", "zum weiterlesen", "weiterlesen", "weitere beiträge", "weitere artikel",
        "ähnliche artikel", "ähnliche beiträge", "empfehlungen aus der redaktion", "auch lesen", "mehr themen", "lust auf mehr",
        "passend zum thema", "verwandte artikel", "mehr dazu",
        // French, Spanish, Italian, Portuguese
        "à lire aussi", "a lire aussi", "lire aussi", "lire la suite", "voir aussi", "sur le même sujet",
        "le puede interesar", "te puede interesar", "le podría interesar", "lee también", "lea también", "lea más", "lea:",
        "puedes ver:", "mira:", "ver también", "notas relacionadas", "noticias relacionadas", "leer más", "también te puede",
        "leggi anche", "leggi tutto", "potrebbe interessarti", "leia também", "leia mais", "veja também",
        // Polish
        "czytaj więcej", "czytaj też", "czytaj także", "zobacz też", "zobacz także", "przeczytaj też", "przeczytaj także",
        "polecamy",
        // tables of contents and neighbouring posts
        "inhaltsverzeichnis", "table of contents", "sommaire", "vorschau auf den nächsten", "nächster artikel",
        "vorheriger artikel", "next article", "previous article", "next post", "previous post", "weiter zu ",
        "über den autor", "über die autorin", "zum autor", "zur autorin", "about the author", "sobre el autor",
        "à propos de l'auteur",
        // Chinese
        "相关阅读", "相关新闻", "相关文章", "延伸阅读", "推荐阅读", "热门推荐", "猜你喜欢", "相關閱讀", "延伸閱讀",
    ])

    /// Calls to share, follow, subscribe or comment.
    static let calls: [[UInt8]] = bytes([
        "share this", "share on", "share article", "follow us", "subscribe to", "sign up for", "view comments",
        "leave a comment", "if you enjoyed", "never miss", "click here to",
        "diesen artikel teilen", "artikel teilen", "beitrag teilen", "teilen sie", "teilen:", "folgen sie uns", "folge uns",
        "kostenlos zum newsletter", "zum newsletter", "newsletter abonnieren", "jetzt abonnieren", "möchten sie den artikel",
        "partager", "suivez-nous", "abonnez-vous", "síguenos", "siguenos", "suscríbete", "compartir", "comparte",
        "seguici", "condividi", "siga-nos", "compartilhe", "udostępnij", "obserwuj nas", "zapraszamy też do subskrypcji",
        "quellen ausblenden", "quellen anzeigen", "subscribe now", "subscribe today", "anzeige,", "anzeige:", "anzeige -",
        "anzeige |", "werbung.", "werbung:", "werbung,", "advertisement", "sponsored", "publicidad", "reklama", "分享到", "关注我们",
    ])
    static let callsAnywhere = bytes([" als pdf herunterladen", " download as pdf"])

    /// A blog engine's line under the post (WordPress's `postmetadata`: "This entry was posted
    /// on … and is filed under …", in its translations), or a licence line: up to 300 characters.
    static let postMetadata: [[UInt8]] = bytes([
        "this entry was posted", "this article was posted", "der beitrag wurde am", "dieser beitrag wurde am",
        "dieser eintrag wurde am", "dieser text wurde veröffentlicht", "erstellt am", "cet article a été publié",
        "cette entrée a été publiée", "esta entrada fue publicada", "questo articolo è stato pubblicato",
    ])

    /// A copyright or credit line: `©` (an image credit after its caption, `… | © Getty Images`),
    /// or "all rights reserved" in one of its languages.
    static func isCopyright(_ s: [UInt8]) -> Bool {
        startsWithAny(s, copyrightStarts) || containsAny(s, copyrightPhrases)
    }
    static let copyrightStarts = bytes(["copyright", "(c) 20"])
    static let copyrightPhrases = bytes([
        "©", "all rights reserved", "copyrighted property", "alle rechte vorbehalten", "tous droits réservés",
        "todos los derechos reservados", "tutti i diritti riservati", "chroniony prawem", "vervielfältigung nur mit",
        "版权所有", "版權所有",
    ])

    /// Labels of metadata: sources, credits, categories, publication and update times (the
    /// category and tag labels `fieldLabels` finds anywhere in a line, and the post-metadata
    /// openings, are not repeated here).
    static let labels: [[UInt8]] = bytes([
        "quelle:", "quellen:", "quellenangaben", "source:", "sources:", "credit:", "credits:", "photo:", "photos:",
        "photo credit", "image:", "image credit", "foto:", "fotos:", "bild:", "bilder:", "titelbild", "beitragsbild",
        "crédit", "fuente:", "fonte:", "źródło:", "fot.", "catégorie", "categoría", "schlagwörter", "schlagworte",
        "posted on", "posted by", "published:", "published on", "release date", "last modified", "last updated", "updated:",
        "updated on", "aktualisiert am", "aktualisiert:", "veröffentlicht am", "veröffentlicht:", "publié le", "mis à jour", "publicado el", "publicado:", "actualizado", "pubblicato il",
        "opublikowano", "aktualizacja:", "verfasst von", "geschrieben von", "written by", "permalink", "permalien",
        "aufrufe:", "zugriffe:", "views:", "kontakt:", "contact:", "pressekontakt", "veröffentlichung:", "video verfügbar bis",
        "kommentare insgesamt", "weitere informationen:", "zusatzinformationen:", "telefon:", "tel.:", "fax:", "e-mail:",
        "来源：", "来源:", "责任编辑", "图片来源", "发布时间",
    ])

    /// A line of the page's metadata fields: a category or tag label anywhere in it (`24.01.2022
    /// 11:38 Kategorie: News`), or fields split by `|` with a date among them (`24. März 2004,
    /// 19:49 | Genesis`, `January 13, 2020 at 08:45 AM | categories: Python | View Comments`).
    static func metadataBar(_ s: [UInt8]) -> Bool {
        if containsAny(s, fieldLabels) { return true }
        guard s.contains(0x7C) else { return false }
        return s.split(separator: 0x7C).contains { dateOrTimeOnly(String(decoding: $0, as: UTF8.self)) }
    }
    static let fieldLabels = bytes([
        "kategorie:", "kategorien:", "category:", "categories:", "tags:", "schlagwörter:", "filed under", "posted in",
        "catégorie:", "categoría:", "categoria:", "kategoria:",
    ])

    static let readingTime = bytes([
        "min read", "minute read", "minutes read", "lesezeit", "min. lesen", "przeczytasz", "tiempo de lectura",
        "temps de lecture", "lettura:", "阅读时间",
    ])

    static func bytes(_ list: [String]) -> [[UInt8]] { list.map { Array($0.utf8) } }

    static func startsWithAny(_ s: [UInt8], _ list: [[UInt8]]) -> Bool {
        list.contains { p in p.count <= s.count && s.starts(with: p) }
    }

    static func containsAny(_ s: [UInt8], _ list: [[UInt8]]) -> Bool {
        s.withUnsafeBufferPointer { b in
            list.contains { p in
                guard let first = p.first, p.count <= b.count else { return false }
                var i = 0
                while i + p.count <= b.count {
                    if b[i] == first {
                        var k = 1
                        while k < p.count, b[i + k] == p[k] { k += 1 }
                        if k == p.count { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }

    /// A date or a time and nothing else: numbers, times, month and weekday names, `am`/`pm`,
    /// `Uhr`; at least one time or month (a line of bare numbers can be a table row).
    static func dateOrTimeOnly(_ s: String) -> Bool {
        let tokens = WrittenDate.tokens(s)
        var timeOrMonth = false
        for t in tokens {
            switch t {
            case .time: timeOrMonth = true
            case .number, .offset: continue
            case .word(let w):
                if WrittenDate.month(t) != nil { timeOrMonth = true; continue }
                if timeWords.contains(w) || WrittenDate.zones[w] != nil { continue }
                return false
            }
        }
        return timeOrMonth
    }

    static let timeWords: Set<String> = [
        "am", "pm", "uhr", "h", "um", "at", "de", "del", "of", "the", "le", "el", "à",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "mon", "tue", "wed", "thu", "fri", "sat", "sun",
        "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag",
        "mo", "di", "mi", "do", "fr", "sa", "so",
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
        "lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo",
    ]
}
