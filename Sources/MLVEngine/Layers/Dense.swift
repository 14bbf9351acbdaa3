internal import CBLAS
import Foundation

// Fully connected layers, softmax cross-entropy and Adam. Weights are (out, in) as in torch.nn.Linear.

/// out (N, O) = inp (N, I) · weight (O, I)ᵀ + bias (O).
func denseForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                  weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, N: Int, I: Int, O: Int) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(N), Int32(O), Int32(I),
                1, inp, Int32(I), weight, Int32(I), 0, out, Int32(O))
    for n in 0..<N {
        let row = out + n * O
        for o in 0..<O { row[o] += bias[o] }
    }
}

/// Given dout (N, O): dweight (O, I) and dbias (O) are overwritten; dinp (N, I) when asked for.
func denseBackward(dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>,
                   dbias: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>,
                   weight: UnsafePointer<Float>, N: Int, I: Int, O: Int) {
    // dweight (O, I) = dout (N, O)ᵀ · inp (N, I)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(O), Int32(I), Int32(N),
                1, dout, Int32(O), inp, Int32(I), 0, dweight, Int32(I))
    for o in 0..<O {
        var s: Double = 0
        for n in 0..<N { s += Double(dout[n * O + o]) }
        dbias[o] = Float(s)
    }
    guard let dinp else { return }
    // dinp (N, I) = dout (N, O) · weight (O, I)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(N), Int32(I), Int32(O),
                1, dout, Int32(O), weight, Int32(I), 0, dinp, Int32(I))
}

/// probs (N, K) = softmax(logits (N, K)); returns the summed cross-entropy loss of the N samples
/// against labels (N) and how many argmaxes were right. Computed in Double.
func softmaxCrossEntropyForward(probs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                                labels: UnsafePointer<Int32>, N: Int, K: Int) -> (lossSum: Double, correct: Int) {
    var lossSum: Double = 0
    var correct = 0
    for n in 0..<N {
        let z = logits + n * K, p = probs + n * K
        var maxv = z[0], arg = 0
        for k in 1..<max(K, 1) where z[k] > maxv { maxv = z[k]; arg = k }
        var sum: Double = 0
        for k in 0..<K { sum += exp(Double(z[k] - maxv)) }
        let logSum = log(sum)
        for k in 0..<K { p[k] = Float(exp(Double(z[k] - maxv) - logSum)) }
        let y = Int(labels[n])
        lossSum += logSum - Double(z[y] - maxv)
        if arg == y { correct += 1 }
    }
    return (lossSum, correct)
}

/// dlogits (N, K) of the mean loss over `lossDivisor` samples: (probs - onehot(labels)) / divisor.
func softmaxCrossEntropyBackward(dlogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>,
                                 labels: UnsafePointer<Int32>, N: Int, K: Int) {
    let scale = 1 / Float(N)
    for n in 0..<N {
        for k in 0..<K {
            let onehot: Float = k == Int(labels[n]) ? 1 : 0
            dlogits[n * K + k] = (probs[n * K + k] - onehot) * scale
        }
    }
}

/// The hyper-parameters of Adam, as torch.optim.Adam names them.
struct AdamConfig {
    var learningRate: Float
    var beta1: Float = 0.9
    var beta2: Float = 0.999
    var eps: Float = 1e-8
    /// L2 regularisation, added to the gradient before the moments (torch.optim.Adam's
    /// `weight_decay`), not decoupled as in AdamW.
    var weightDecay: Float
}

/// One Adam step over `count` parameters with bias correction; `step` counts from 1.
/// Follows torch.optim.Adam (foreach=False) term by term:
///   g += wd·p;  m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²
///   p -= (lr / (1-β1^t)) · m / (√v / √(1-β2^t) + eps)
func adamUpdate(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                count: Int, step: Int, config: AdamConfig) {
    let b1 = config.beta1, b2 = config.beta2, wd = config.weightDecay
    let bc1 = 1 - Float(pow(Double(b1), Double(step)))
    let bc2 = 1 - Float(pow(Double(b2), Double(step)))
    let stepSize = config.learningRate / bc1
    let bc2Sqrt = bc2.squareRoot()
    for i in 0..<count {
        var g = grads[i]
        if wd != 0 { g += wd * params[i] }
        m[i] = b1 * m[i] + (1 - b1) * g
        v[i] = b2 * v[i] + (1 - b2) * g * g
        let denom = v[i].squareRoot() / bc2Sqrt + config.eps
        params[i] -= stepSize * (m[i] / denom)
    }
}
