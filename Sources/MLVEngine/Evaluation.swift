import Foundation
import MLVSupport

/// Accuracy, per-class and macro precision/recall/F1 and the confusion matrix of a model on
/// one split of an image folder.
package struct Evaluation: Sendable {
    package var classNames: [String]
    package var split: String
    /// confusion[true][predicted]
    package var confusion: [[Int]]
    /// Wall time of the forward passes alone (not decoding); not part of `json`.
    package var forwardSeconds: Double = 0
    /// Per image, in the split's order: its path (relative to the data folder), true and predicted class.
    package var predictions: [(path: String, actual: String, predicted: String)] = []

    /// `path,actual,predicted` per image (what a confusion plot reads, as DVC's does).
    package var predictionsCSV: String {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : s
        }
        return "path,actual,predicted\n" + predictions.map { "\(field($0.path)),\(field($0.actual)),\(field($0.predicted))\n" }.joined()
    }

    package var count: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }
    package var accuracy: Double {
        Double(classNames.indices.reduce(0) { $0 + confusion[$1][$1] }) / Double(max(count, 1))
    }
    package func support(_ c: Int) -> Int { confusion[c].reduce(0, +) }
    /// Of the images predicted as c, the share that are c (0 when none were predicted c).
    package func precision(_ c: Int) -> Double {
        let predicted = confusion.reduce(0) { $0 + $1[c] }
        return predicted == 0 ? 0 : Double(confusion[c][c]) / Double(predicted)
    }
    /// Of the images of class c, the share predicted as c.
    package func recall(_ c: Int) -> Double {
        support(c) == 0 ? 0 : Double(confusion[c][c]) / Double(support(c))
    }
    package func f1(_ c: Int) -> Double {
        let p = precision(c), r = recall(c)
        return p + r == 0 ? 0 : 2 * p * r / (p + r)
    }
    /// Unweighted means over the classes.
    package var macro: (precision: Double, recall: Double, f1: Double) {
        let k = Double(classNames.count)
        return (classNames.indices.reduce(0) { $0 + precision($1) } / k,
                classNames.indices.reduce(0) { $0 + recall($1) } / k,
                classNames.indices.reduce(0) { $0 + f1($1) } / k)
    }

    /// The metrics file: deterministic key order, one key per line at the top level.
    package var json: String {
        let perClass = classNames.indices.map { c in
            JSONText.object([
                ("class", JSONText.string(classNames[c])), ("precision", JSONText.number(precision(c))),
                ("recall", JSONText.number(recall(c))), ("f1", JSONText.number(f1(c))), ("support", String(support(c))),
            ])
        }
        return JSONText.object([
            ("split", JSONText.string(split)),
            ("images", String(count)),
            ("accuracy", JSONText.number(accuracy)),
            ("macro_precision", JSONText.number(macro.precision)),
            ("macro_recall", JSONText.number(macro.recall)),
            ("macro_f1", JSONText.number(macro.f1)),
            ("per_class", "[\n    " + perClass.joined(separator: ",\n    ") + "\n  ]"),
            ("classes", JSONText.array(classNames.map(JSONText.string))),
            ("confusion_matrix", "[\n    " + confusion.map { JSONText.array($0.map(String.init)) }.joined(separator: ",\n    ") + "\n  ]"),
        ], indent: 2) + "\n"
    }

    /// The per-class table and the confusion matrix, for the terminal.
    package var table: String {
        let width = max(9, classNames.map(\.count).max() ?? 0)
        func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        func left(_ s: String) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        var out = "\(left("class"))  precision  recall      f1  support\n"
        for c in classNames.indices {
            out += "\(left(classNames[c]))  \(pad(f(precision(c)), 9))  \(pad(f(recall(c)), 6))  \(pad(f(f1(c)), 6))  \(pad(String(support(c)), 7))\n"
        }
        let m = macro
        out += "\(left("macro"))  \(pad(f(m.precision), 9))  \(pad(f(m.recall), 6))  \(pad(f(m.f1), 6))  \(pad(String(count), 7))\n"
        out += "\naccuracy \(f(accuracy)) on \(count) \(split) images\n\nconfusion matrix (rows: true class, columns: predicted)\n"
        let cell = max(5, (confusion.flatMap { $0 }.max() ?? 0).description.count + 1)
        out += left("") + classNames.indices.map { pad(String($0), cell) }.joined() + "\n"
        for (c, row) in confusion.enumerated() {
            out += left("\(c) \(classNames[c])") + row.map { pad(String($0), cell) }.joined() + "\n"
        }
        return out
    }
}

package enum Evaluator {
    /// Evaluates `model` on `split` of the image folder `data` (for a folder without split
    /// folders, the split is redrawn with the seed the model was trained with).
    package static func evaluate(model: String, data: String, split: ImageFolder.Split, threads: Int) throws -> Evaluation {
        let checkpoint = try Checkpoint.read(model)
        let seed = (try? JSONSerialization.jsonObject(with: Data(checkpoint.paramsJSON.utf8)) as? [String: Any])?["random_seed"] as? Int ?? 42
        let folder = try ImageFolder.scan(data, seed: seed)
        guard folder.classNames == checkpoint.classNames else {
            throw EngineError("\(data) has classes \(folder.classNames.joined(separator: ", ")) but the model was trained on \(checkpoint.classNames.joined(separator: ", "))",
                              hint: "evaluate a model trained on the same classes (\(checkpoint.classNames.count) of them)")
        }
        let items = folder.items(split)
        guard !items.isEmpty else {
            throw EngineError("\(data): the \(split.rawValue) split has no images",
                              hint: folder.hasSplitFolders ? "add \(data)/\(split.rawValue)/<class>/*.png or pass --split val" : "add more images per class")
        }
        let set = try Inference.load(items, for: checkpoint, model: model, threads: threads)
        let (_, probs, seconds) = Inference.run(checkpoint, set, threads: threads)
        let K = checkpoint.classNames.count
        var confusion = Array(repeating: Array(repeating: 0, count: K), count: K)
        var predictions: [(String, String, String)] = []
        let prefix = data.hasSuffix("/") ? data : data + "/"
        for i in 0..<set.count {
            var best = 0
            for k in 1..<K where probs[i * K + k] > probs[i * K + best] { best = k }
            confusion[Int(set.labels[i])][best] += 1
            let path = items[i].path.hasPrefix(prefix) ? String(items[i].path.dropFirst(prefix.count)) : items[i].path
            predictions.append((path, checkpoint.classNames[Int(set.labels[i])], checkpoint.classNames[best]))
        }
        return Evaluation(classNames: checkpoint.classNames, split: split.rawValue, confusion: confusion,
                          forwardSeconds: seconds, predictions: predictions)
    }
}
