import MirrorCore
import MirrorMarkup

/// The visible main text of a page where no article body was found: everything a reader
/// sees in `<body>` except scripts, styles, navigation, the page header and footer, asides
/// and hidden elements; if even that is empty, all visible text. Clock, counter, copyright
/// and other furniture lines are left out while anything else remains (`Pruning.isCounterLine`,
/// `BoilerplateLine`). So a
/// short notice, a page of counters around two paragraphs or a page of bare text still has a
/// body whose edits make revisions (`Extraction.fallback`).
enum FallbackText {
    static func paragraphs(index: PageIndex, title: String?) -> [String] {
        guard index.count > 0 else { return [] }
        let root = index.body
        let canonicalTitle = title.map(TextNormalizer.canonical)
        /// The blocks of the body outside `skip`; with `dropVolatile`, no clock, counter or
        /// copyright line and no repeat of the title.
        func render(dropVolatile: Bool = true, _ skip: @escaping (Int) -> Bool) -> [String] {
            var renderer = BlockRenderer(index: index, skip: skip)
            renderer.render(root)
            return renderer.blocks.filter {
                !$0.text.isEmpty && (!dropVolatile || TextNormalizer.canonical($0.text) != canonicalTitle
                    && !Pruning.isCounterLine($0.text) && !BoilerplateLine.matches($0.text, linkShare: $0.linkShare))
            }.map(\.text)
        }
        let main = render { i in
            switch index.tag[i] {
            case .nav, .header, .footer, .aside, .menu, .dialog, .noscript: return true
            default: return index.flags[i].contains(.hidden) || index.flags[i].contains(.unlikelyRole)
            }
        }
        if !main.isEmpty { return main }
        let hidden: (Int) -> Bool = { i in index.flags[i].contains(.hidden) }
        let all = render(hidden)
        if !all.isEmpty { return all }
        // Nothing but clocks, counters and copyright: still the page's text (never empty).
        return render(dropVolatile: false, hidden)
    }
}
