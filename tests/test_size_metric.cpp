// The model-size objective: hand-computed sizes, the 8-bit reference and monotonicity.
#include "gruq/quant/genome.h"
#include "gruq/quant/size_metric.h"
#include "gruq/data/split.h"

#include <QtTest>

using namespace gruq;

namespace {

GruShape mnistShape() {
    GruShape shape;
    shape.inputSize = 28;
    shape.hiddenSize = 64;
    shape.numClasses = 10;
    return shape;
}

BitAssignment allBits(int bits) {
    BitAssignment assignment;
    assignment.fill(bits);
    return assignment;
}

// A one-layer model's size from its one bit assignment.
ModelSize modelSize(const GruShape& shape, const BitAssignment& bits) { return gruq::modelSize(shape, LayerBits{bits}); }

}  // namespace

class TestSizeMetric : public QObject {
    Q_OBJECT
private slots:
    void allEightBitHandComputed() {
        const ModelSize size = modelSize(mnistShape(), allBits(8));
        // Weights: W_ih 3*64*28 = 5376, W_hh 3*64*64 = 12288, W_fc 10*64 = 640 -> 18304 * 8.
        QCOMPARE(size.weightBits, int64_t(146432));
        // Biases: (192 + 192 + 10) * 32 = 394 * 32.
        QCOMPARE(size.biasBits, int64_t(12608));
        // LUTs: sigmoid r, sigmoid z, tanh: 3 * 256 entries * 8 bits.
        QCOMPARE(size.lutBits, int64_t(6144));
        QCOMPARE(size.totalBits(), int64_t(165184));
        QCOMPARE(size.totalBytes(), int64_t(20648));
        QCOMPARE(size.fractionOf8Bit, 1.0);
    }

    void mixedGenomeHandComputed() {
        const Genome genome = parseGenomeText("x8 w_ih4 w_hh6 ih8 hh8 sum_r6 sum_z7 sig_r5 sig_z8 mul_rn8 sum_n4 "
                                              "tanh_n3 mul_zn8 mul_zh8 h8 w_fc2 fc8",
                                              defaultLayout());
        const ModelSize size = modelSize(mnistShape(), genome.resolve());
        // Weights: 5376*4 + 12288*6 + 640*2 = 21504 + 73728 + 1280.
        QCOMPARE(size.weightBits, int64_t(96512));
        QCOMPARE(size.biasBits, int64_t(12608));
        // LUTs: 2^6*5 + 2^7*8 + 2^4*3 = 320 + 1024 + 48.
        QCOMPARE(size.lutBits, int64_t(1392));
        QCOMPARE(size.totalBits(), int64_t(110512));
        QCOMPARE(size.totalBytes(), int64_t(13814));
        QCOMPARE(size.fractionOf8Bit, 110512.0 / 165184.0);
    }

    void perGateWeightsHandComputed() {
        // Each gate's weight matrix at its own width: W_ir 2, W_iz 3, W_in 4, W_hr 5, W_hz 6, W_hn 7.
        Genome genome = uniformGenome(perGateLayout(), 8);
        genome.bits[int(QuantPoint::WIr)] = 2;
        genome.bits[int(QuantPoint::WIz)] = 3;
        genome.bits[int(QuantPoint::WIn)] = 4;
        genome.bits[int(QuantPoint::WHr)] = 5;
        genome.bits[int(QuantPoint::WHz)] = 6;
        genome.bits[int(QuantPoint::WHn)] = 7;
        const ModelSize size = modelSize(mnistShape(), genome.resolve());
        // 64*28*(2+3+4) + 64*64*(5+6+7) + 640*8 = 16128 + 73728 + 5120.
        QCOMPARE(size.weightBits, int64_t(94976));
        QCOMPARE(size.lutBits, int64_t(6144));
    }

    void homogeneousFourBit() {
        const ModelSize size = modelSize(mnistShape(), uniformGenome(homogeneousLayout(), 4).resolve());
        QCOMPARE(size.weightBits, int64_t(18304 * 4));   // 73216
        QCOMPARE(size.biasBits, int64_t(12608));         // biases stay int32
        QCOMPARE(size.lutBits, int64_t(3 * 16 * 4));      // 192
        QCOMPARE(size.totalBits(), int64_t(86016));
        QCOMPARE(size.totalBytes(), int64_t(10752));
        QCOMPARE(size.fractionOf8Bit, 86016.0 / 165184.0);
    }

    void otherShapeHandComputed() {
        // A keyword-spotting-like shape: F=13, H=32, C=12, all 8 bits, then all 2 bits.
        GruShape shape;
        shape.inputSize = 13;
        shape.hiddenSize = 32;
        shape.numClasses = 12;
        // Weights: 3*32*13 = 1248, 3*32*32 = 3072, 12*32 = 384 -> 4704 numel.
        // Biases: (96 + 96 + 12) * 32 = 6528.
        const ModelSize eight = modelSize(shape, allBits(8));
        QCOMPARE(eight.weightBits, int64_t(4704 * 8));
        QCOMPARE(eight.biasBits, int64_t(6528));
        QCOMPARE(eight.totalBits(), int64_t(37632 + 6528 + 6144));
        const ModelSize two = modelSize(shape, allBits(2));
        QCOMPARE(two.weightBits, int64_t(9408));
        QCOMPARE(two.lutBits, int64_t(3 * 4 * 2));
        QCOMPARE(two.totalBits(), int64_t(9408 + 6528 + 24));
        QCOMPARE(two.fractionOf8Bit, 15960.0 / 50304.0);
    }

    void onlyWeightsAndLutPointsMatter() {
        // Activation points other than the LUT inputs/outputs do not change the stored model size.
        const ModelSize reference = modelSize(mnistShape(), allBits(8));
        for (QuantPoint p : {QuantPoint::X, QuantPoint::IHr, QuantPoint::HHn, QuantPoint::MulRN, QuantPoint::MulZN,
                             QuantPoint::MulZH, QuantPoint::H, QuantPoint::Fc}) {
            BitAssignment bits = allBits(8);
            bits[int(p)] = 2;
            QCOMPARE(modelSize(mnistShape(), bits).totalBits(), reference.totalBits());
        }
    }

    void loweringAnyPointNeverIncreasesSize() {
        StableRng rng(11);
        for (int trial = 0; trial < 200; ++trial) {
            BitAssignment bits;
            for (int& b : bits) b = 2 + static_cast<int>(rng.below(7));
            const int64_t before = modelSize(mnistShape(), bits).totalBits();
            for (int p = 0; p < kQuantPointCount; ++p) {
                if (bits[p] == 2) continue;
                BitAssignment lowered = bits;
                --lowered[p];
                const int64_t after = modelSize(mnistShape(), lowered).totalBits();
                QVERIFY2(after <= before, quantPointName(static_cast<QuantPoint>(p)));
                // Lowering a weight or LUT point strictly shrinks the model.
                const auto point = static_cast<QuantPoint>(p);
                const bool lutPoint = point == QuantPoint::SumR || point == QuantPoint::SumZ ||
                                      point == QuantPoint::SumN || point == QuantPoint::SigR ||
                                      point == QuantPoint::SigZ || point == QuantPoint::TanhN;
                if (isWeightPoint(point) || lutPoint) QVERIFY(after < before);
            }
        }
    }

    void totalBytesRoundsUp() {
        // A single-output model with H=1, F=1 lets the total land on non-multiples of 8.
        GruShape shape;
        shape.inputSize = 1;
        shape.hiddenSize = 1;
        shape.numClasses = 1;
        BitAssignment bits = allBits(2);
        // Weights 3*2 + 3*2 + 1*2 = 14, biases 7*32 = 224, LUTs 3*4*2 = 24 -> 262 bits.
        ModelSize size = modelSize(shape, bits);
        QCOMPARE(size.totalBits(), int64_t(262));
        QCOMPARE(size.totalBytes(), int64_t(33));  // 32.75 rounded up
        bits[int(QuantPoint::WFc)] = 3;            // 263 bits
        QCOMPARE(modelSize(shape, bits).totalBytes(), int64_t(33));
        bits[int(QuantPoint::WFc)] = 4;            // 264 bits: exactly 33 bytes
        QCOMPARE(modelSize(shape, bits).totalBits(), int64_t(264));
        QCOMPARE(modelSize(shape, bits).totalBytes(), int64_t(33));
        bits[int(QuantPoint::WFc)] = 5;            // 265 bits
        QCOMPARE(modelSize(shape, bits).totalBytes(), int64_t(34));

        ModelSize manual;
        manual.weightBits = 1;
        QCOMPARE(manual.totalBytes(), int64_t(1));
        QCOMPARE(ModelSize{}.totalBytes(), int64_t(0));
    }

    // Two layers: layer 2's W_ih is [3H x H]; each layer has its biases and LUTs; the head is counted once.
    void stackedHandComputed() {
        GruShape shape = mnistShape();
        shape.numLayers = 2;
        const ModelSize eight = gruq::modelSize(shape, LayerBits(2, allBits(8)));
        // Weights: layer 1 5376 + 12288, layer 2 3*64*64 + 12288 = 24576, W_fc 640 -> 42880 * 8.
        QCOMPARE(eight.weightBits, int64_t(343040));
        QCOMPARE(eight.biasBits, int64_t((384 + 384 + 10) * 32));
        QCOMPARE(eight.lutBits, int64_t(2 * 6144));
        QCOMPARE(eight.fractionOf8Bit, 1.0);
        // Layer 2 at 4 bits (its own LUTs too), layer 1 at 8; the head's bits are the last layer's w_fc.
        const LayerBits mixed = {allBits(8), allBits(4)};
        const ModelSize size = gruq::modelSize(shape, mixed);
        QCOMPARE(size.weightBits, int64_t(17664 * 8 + (24576 + 640) * 4));
        QCOMPARE(size.lutBits, int64_t(6144 + 3 * 16 * 4));
        QCOMPARE(size.fractionOf8Bit, double(size.totalBits()) / double(eight.totalBits()));
        // The genome's stacked form resolves to what the size counts.
        const Genome genome = uniformGenome(stackedLayout(homogeneousLayout(), 2), 4);
        QCOMPARE(gruq::modelSize(shape, genome.resolve()).weightBits, int64_t(42880 * 4));
        // One assignment per layer, no more, no less.
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, gruq::modelSize(shape, LayerBits{allBits(8)}));
    }

    void rejectsNonsense() {
        BitAssignment bits = allBits(8);
        bits[int(QuantPoint::SumN)] = 0;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, modelSize(mnistShape(), bits));
        GruShape negative = mnistShape();
        negative.hiddenSize = -1;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, modelSize(negative, allBits(8)));
    }
};

QTEST_APPLESS_MAIN(TestSizeMetric)
#include "test_size_metric.moc"
