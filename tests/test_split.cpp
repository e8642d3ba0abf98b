// Split determinism and the stable random generator.
#include "gruq/data/split.h"

#include <QtTest>

#include <map>
#include <set>

using namespace gruq;

class TestSplit : public QObject {
    Q_OBJECT
private slots:
    void rngIsSplitMix64() {
        // Reference values of SplitMix64 with seed 0 (Vigna's splitmix64.c): pins the sequence forever.
        StableRng rng(0);
        QCOMPARE(rng.next(), 0xe220a8397b1dcdafULL);
        QCOMPARE(rng.next(), 0x6e789e6aa1b965f4ULL);
        QCOMPARE(rng.next(), 0x06c45d188009454fULL);
    }

    void belowIsInRangeAndCoversIt() {
        StableRng rng(7);
        std::set<uint64_t> seen;
        for (int i = 0; i < 2000; ++i) {
            const uint64_t v = rng.below(13);
            QVERIFY(v < 13);
            seen.insert(v);
        }
        QCOMPARE(seen.size(), size_t(13));
    }

    void uniformAndNormalMoments() {
        StableRng rng(3);
        double sum = 0, sumSq = 0;
        const int n = 200000;
        for (int i = 0; i < n; ++i) {
            const double u = rng.uniform();
            QVERIFY(u >= 0.0 && u < 1.0);
            const double z = rng.normal();
            sum += z;
            sumSq += z * z;
        }
        QVERIFY(std::abs(sum / n) < 0.01);
        QVERIFY(std::abs(sumSq / n - 1.0) < 0.02);
    }

    void splitIsDeterministicStratifiedAndDisjoint() {
        std::vector<int32_t> labels;
        for (int i = 0; i < 1000; ++i) labels.push_back(i % 7 == 0 ? 3 : i % 4);
        const SplitIndices a = stratifiedSplit(labels, 0.2, 42);
        const SplitIndices b = stratifiedSplit(labels, 0.2, 42);
        QCOMPARE(a.train, b.train);
        QCOMPARE(a.validation, b.validation);
        QCOMPARE(a.train.size() + a.validation.size(), labels.size());

        std::set<int64_t> all(a.train.begin(), a.train.end());
        for (int64_t v : a.validation) QVERIFY(all.insert(v).second);  // disjoint
        QCOMPARE(all.size(), labels.size());

        std::map<int32_t, int> total, val;
        for (int32_t l : labels) ++total[l];
        for (int64_t i : a.validation) ++val[labels[static_cast<size_t>(i)]];
        for (auto [label, count] : total) QVERIFY(std::abs(val[label] - 0.2 * count) <= 1.0);

        const SplitIndices c = stratifiedSplit(labels, 0.2, 43);
        QVERIFY(c.validation != a.validation);
    }

    void splitPinnedAcrossPlatforms() {
        // A published split must never change between builds or platforms: these are the indices
        // this implementation produced when the format was fixed.
        const SplitIndices a = stratifiedSplit(std::vector<int32_t>(20, 0), 0.25, 0);
        QCOMPARE(a.validation, (std::vector<int64_t>{4, 6, 10, 14, 18}));
        std::vector<int32_t> labels;
        for (int i = 0; i < 12; ++i) labels.push_back(i % 3);
        const SplitIndices b = stratifiedSplit(labels, 0.5, 123);
        QCOMPARE(b.validation, (std::vector<int64_t>{1, 2, 3, 4, 6, 11}));
    }

    void zeroFractionKeepsEverythingForTraining() {
        const std::vector<int32_t> labels = {0, 1, 0, 1};
        const SplitIndices s = stratifiedSplit(labels, 0.0, 1);
        QCOMPARE(s.train.size(), size_t(4));
        QVERIFY(s.validation.empty());
    }
};

QTEST_APPLESS_MAIN(TestSplit)
#include "test_split.moc"
