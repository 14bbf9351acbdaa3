import MLVSupport
import MLVTestSupport
@testable import MLVEngine

/// Writes a learnable image folder: class k has a bright square in quadrant k on dark noise.
/// `layout` nil writes DIR/<class>/*.png, else DIR/<split>/<class>/*.png for each split given.
func makeImageFolder(_ root: String, classes: Int = 3, perClass: Int = 12, size: Int = 12,
                     channels: Int = 1, splits: [String]? = nil, seed: UInt64 = 7) throws {
    var rng = SplitMix64(seed: seed)
    for split in splits ?? [""] {
        for k in 0..<classes {
            let dir = Path.join(Path.join(root, split), "c\(k)")
            try FS.makeDirectories(dir)
            for i in 0..<perClass {
                var px = (0..<(size * size * channels)).map { _ in UInt8(rng.nextIndex(below: 80)) }
                let half = size / 2, x0 = (k % 2) * half, y0 = ((k / 2) % 2) * half
                for y in y0..<(y0 + half) {
                    for x in x0..<(x0 + half) {
                        for c in 0..<channels { px[(y * size + x) * channels + c] = 230 }
                    }
                }
                let png = try PNGImage.encode(width: size, height: size, channels: channels, pixels: px)
                try AtomicFile.write(png, to: Path.join(dir, "img\(i).png"))
            }
        }
    }
}

/// A params.yaml for a small, fast net on `size`-pixel images.
func tinyParamsYAML(size: Int = 12, channels: Int = 1, epochs: Int = 3, extra: String = "") -> String {
    """
    train:
      image_size: \(size)
      input_channels: \(channels)
      conv_filters: [4, 8]
      dropout_rates: [0.1, 0.2]
      fc_sizes: [16]
      learning_rate: 0.01
      batch_size: 8
      num_epochs: \(epochs)
      random_seed: 3
    \(extra)
    """
}
