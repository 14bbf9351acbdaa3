import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML document as a small tree (S3's responses are a few levels deep), built with
/// Foundation's XMLParser: no string searching in XML, ever. External entities are not resolved.
package struct XMLTree: Sendable, Equatable {
    package var name: String
    package var text: String
    package var children: [XMLTree]

    /// The first child named `name`.
    package func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }
    package func all(_ name: String) -> [XMLTree] { children.filter { $0.name == name } }
    /// The text of the first child named `name`.
    package subscript(_ name: String) -> String? { child(name)?.text }


    /// Nil when `bytes` is not well-formed XML, or not UTF-8 (S3 answers in UTF-8; and
    /// Foundation's XMLParser traps on an element name whose bytes are not UTF-8, so a server
    /// could otherwise end mlv with SIGILL: found by ResponseFuzzTests).
    package static func parse(_ bytes: [UInt8]) -> XMLTree? {
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        let parser = XMLParser(data: Data(bytes))
        parser.shouldResolveExternalEntities = false
        let builder = Builder()
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else { return nil }
        return root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLTree] = []
        var root: XMLTree?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            // Depth is bounded: S3 never nests deeper than a few levels.
            guard stack.count < 64 else { parser.abortParsing(); return }
            stack.append(XMLTree(name: elementName, text: "", children: []))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            guard let done = stack.popLast() else { return }
            if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(done) }
        }
    }
}
