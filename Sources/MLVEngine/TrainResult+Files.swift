import Foundation
import MLVSupport

extension TrainResult {
    /// metrics.json. Only values that the data, params and seed decide, so the file is
    /// byte-identical across runs and thread counts; wall time is printed, never written.
    package var metricsJSON: String {
        let best = history.first { $0.epoch == bestEpoch }
        return JSONText.object([
            ("best_epoch", String(bestEpoch)),
            ("best_val_loss", JSONText.number(best?.valLoss ?? .nan)),
            ("best_val_accuracy", JSONText.number(best?.valAccuracy ?? .nan)),
            ("final_epoch", String(history.last?.epoch ?? 0)),
            ("stopped_early", stoppedEarly ? "true" : "false"),
            ("train_images", String(trainImages)),
            ("train_steps", String(steps)),
        ], indent: 2) + "\n"
    }

    /// history.csv: one row per epoch, only values that the data, params and seed decide (the
    /// epochs' wall times are printed by `train`, not written).
    package var historyCSV: String {
        var out = "epoch,train_loss,train_acc,val_loss,val_acc\n"
        for r in history {
            out += "\(r.epoch),\(r.trainLoss),\(r.trainAccuracy),\(r.valLoss),\(r.valAccuracy)\n"
        }
        return out
    }

    /// Writes model.safetensors, metrics.json and history.csv into `dir` (created if needed),
    /// each atomically.
    package func write(to dir: String) throws {
        try FS.makeDirectories(dir)
        try checkpoint.write(to: Path.join(dir, "model.safetensors"))
        try AtomicFile.write(metricsJSON, to: Path.join(dir, "metrics.json"))
        try AtomicFile.write(historyCSV, to: Path.join(dir, "history.csv"))
    }
}
