package dev.vertebra.examples.trainer;

import dev.vertebra.core.Autocast;
import dev.vertebra.core.Backends;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.cpu.CpuThreads;
import dev.vertebra.data.volume.Augment;
import dev.vertebra.examples.metric.CompetitionMetric;
import dev.vertebra.examples.metric.Roc;
import dev.vertebra.nn.Checkpoint;
import dev.vertebra.nn.Losses;
import dev.vertebra.nn.ModelEma;
import dev.vertebra.nn.optim.AdamW;
import dev.vertebra.nn.optim.GradClip;
import dev.vertebra.nn.optim.LossScaler;
import dev.vertebra.nn.optim.LrSchedule;
import dev.vertebra.nn.optim.ParamGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SequencedMap;
import java.util.stream.IntStream;

/**
 * Trains a {@link FractureModel}: studies split by study into training and validation; each epoch draws
 * {@code samplesPerStudy} slices per training study (half of them from its fracture slices when it has any, so
 * that the rare positives are seen; the rest from all its slices), augments them, and takes AdamW steps on the
 * weighted BCE of the slice outputs (the fracture output weighs {@value #FRACTURE_LOSS_WEIGHT}× a visibility
 * output, and its positives twice its negatives as in the competition). After each epoch it predicts the
 * validation studies, fits the {@link Calibration} of their pooled probabilities, scores them with the competition
 * metric (and logs how well the outputs separate: slice-level AUC on the epoch's training draws and on the
 * validation slices, study-level AUC, how well {@link SpineLevels} finds the vertebrae), appends a row to
 * metrics.csv and writes last.safetensors (weights, optimiser, generators, calibration, spine atlas; atomically).
 * A run resumed from last.safetensors repeats exactly what the uninterrupted run would have done.
 *
 * <p>best.safetensors holds the epoch whose calibrated validation loss, averaged with its two neighbours', is the
 * lowest ({@link #windowLoss}). One epoch's figure on a small validation set is a noisy guide: on the demo's 26
 * validation studies an epoch now and then separates them perfectly, the calibration's patient_overall map runs to
 * its bound, the epoch scores 0.04 where its neighbours score 0.08–0.18, and its over-confident map scores 0.29–0.49
 * on the test studies where its neighbours score 0.17–0.26 (examples/README.md, "Where the demo stands"). So an
 * epoch is judged once the next one is validated (the final epoch with its predecessor alone): until then its
 * checkpoint waits in pending-&lt;epoch&gt;.safetensors, which is then moved to best.safetensors or deleted.
 *
 * <p>With {@link TrainConfig#emaDecay()} set, an exponential moving average of the weights and batch-norm
 * statistics ({@link ModelEma}, updated after every step) is what validation predicts with, what the calibration
 * is fitted to and what best.safetensors holds as its weights; last.safetensors holds the live weights and the
 * average beside them. Validation of the live weights swings from epoch to epoch on a small validation set (the
 * running statistics move with every batch even when the learning rate is tiny); the average's curve is smooth and
 * reads more easily. (On the demo it did not make the test loss lower or steadier: bench/NOTES.md, ninth round.)
 *
 * <p>Precision ({@link TrainConfig#precision()}): bf16 and fp16 run the forward pass and the loss under
 * {@link Autocast} with float32 master weights; fp16 scales the loss ({@link LossScaler}, its state checkpointed)
 * and skips steps whose gradients overflow; tf32 lets a GPU use TF32 tensor cores. Validation runs in float32.
 *
 * <pre>{@code
 * Trainer t = Trainer.start(config, studies, Path.of("runs/x"), Device.CPU);
 * t.run(config.epochs());
 * }</pre>
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);
    static final String LAST = "last.safetensors";
    static final String BEST = "best.safetensors";
    static final String METRICS = "metrics.csv";
    private static final String METRICS_HEADER = "epoch,train_loss,val_slice_loss,val_loss,lr,seconds";
    private static final Augment AUGMENT = new Augment(0.5, 0, 8, 0.08, 0.04, 0.05, 0.01);
    private static final double CLIP = 5.0;
    /**
     * The fracture output's share of the loss beside the seven visibility outputs: doubled so that the one output
     * the score depends on is not outvoted while the network learns where the vertebrae are.
     */
    private static final float FRACTURE_LOSS_WEIGHT = 2;

    /** One row of metrics.csv. */
    public record Epoch(int epoch, double trainLoss, double valSliceLoss, double valLoss, double lr, double seconds) {
        /** The validation loss in full (it decides the best checkpoint again after a resume), the rest rounded. */
        String csv() {
            return String.format(Locale.ROOT, "%d,%.6f,%.6f,%s,%.6g,%.1f", epoch, trainLoss, valSliceLoss, valLoss,
                    lr, seconds);
        }

        /** The validation loss as {@link #windowLoss} ranks it: NaN (no validation) counts as the worst. */
        double rank() {
            return Double.isNaN(valLoss) ? Double.POSITIVE_INFINITY : valLoss;
        }

        static Epoch parse(String line) {
            String[] f = line.split(",");
            return new Epoch(Integer.parseInt(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                    Double.parseDouble(f[3]), Double.parseDouble(f[4]), Double.parseDouble(f[5]));
        }
    }

    private final TrainConfig config;
    private final List<StudySlices> train;
    private final List<StudySlices> val;
    private final FractureModel model;
    private final AdamW optimizer;
    private final LossScaler scaler;
    /** The weight average, null when the run keeps none. */
    private final ModelEma ema;
    private final LrSchedule schedule;
    private final Generator data;
    private final Path run;
    private final List<Epoch> history = new ArrayList<>();
    private long step;
    private int epoch;

    private Trainer(TrainConfig config, List<StudySlices> studies, Path run, Device device) {
        this.config = config;
        this.run = run;
        List<List<StudySlices>> split = split(studies, config.valFraction(), config.seed());
        this.train = split.get(0);
        this.val = split.get(1);
        this.model = new FractureModel(config, device);
        model.atlas(SpineAtlas.fit(train));
        this.optimizer = new AdamW(List.of(ParamGroup.of(model.net().trainableParameters(), config.lr(),
                config.weightDecay())), 0.9, 0.999, 1e-8);
        long steps = (long) config.epochs() * stepsPerEpoch();
        this.schedule = new LrSchedule.WarmupCosine(config.lr(), Math.min(50, Math.max(1, steps / 10)),
                Math.max(2, steps), config.lr() * 0.02);
        this.data = new Generator(config.seed() ^ 0x5DEECE66DL);
        this.scaler = LossScaler.forPrecision(config.precision());
        this.ema = config.emaDecay() > 0 ? new ModelEma(model.net(), config.emaDecay(), true) : null;
        // Process-wide, like torch.backends.cuda.matmul.allow_tf32; only accelerators read it.
        Backends.allowTf32(config.precision().tf32());
    }

    /** A fresh run in {@code run} (created). */
    public static Trainer start(TrainConfig config, List<StudySlices> studies, Path run, Device device)
            throws IOException {
        Files.createDirectories(run);
        // A new run in an old run's folder: its best checkpoint and pending epochs would pass for this run's.
        try (var old = Files.newDirectoryStream(run, "{" + BEST + ",pending-*.safetensors}")) {
            for (Path file : old) {
                Files.delete(file);
            }
        }
        Files.writeString(run.resolve("config.json"), config.toJson() + "\n");
        Files.writeString(run.resolve(METRICS), METRICS_HEADER + "\n");
        return new Trainer(config, studies, run, device);
    }

    /** Continues the run in {@code run} from its last.safetensors, with the same studies. */
    public static Trainer resume(Path run, List<StudySlices> studies, Device device) throws IOException {
        TrainConfig config = configOf(run.resolve(LAST));
        Trainer t = new Trainer(config, studies, run, device);
        Checkpoint.Info info = Checkpoint.load(run.resolve(LAST), t.model.net(), t.optimizer, t.scaler, t.ema,
                t.generators());
        t.model.calibration(Calibration.fromJson(info.configJson()));
        t.epoch = (int) info.epoch();
        t.step = info.step();
        List<String> kept = new ArrayList<>(List.of(METRICS_HEADER));
        for (String line : Files.readAllLines(run.resolve(METRICS)).stream().skip(1).toList()) {
            Epoch e = Epoch.parse(line);
            if (e.epoch() <= t.epoch) {
                t.history.add(e);
                kept.add(line);
            }
        }
        Files.write(run.resolve(METRICS), kept);
        LOG.info("resuming {} after epoch {} (step {})", run, t.epoch, t.step);
        return t;
    }

    /** The configuration stored in a checkpoint. */
    public static TrainConfig configOf(Path checkpoint) throws IOException {
        return TrainConfig.fromJson(metadataOf(checkpoint));
    }

    /** A checkpoint's JSON: the training settings and the fitted {@link Calibration}. */
    static String metadataOf(Path checkpoint) throws IOException {
        String json = dev.vertebra.core.io.Safetensors.read(checkpoint).metadata().get("config");
        if (json == null) {
            throw new IOException(checkpoint + " holds no training configuration (not a trainer checkpoint)");
        }
        return json;
    }

    /** {@link #metadataOf}'s inverse. */
    private String metadata() {
        String config = this.config.toJson();
        return config.substring(0, config.length() - 1) + ", " + model.calibration().jsonMembers() + ", "
                + model.atlas().jsonMember() + "}";
    }

    private Map<String, Generator> generators() {
        return Map.of("data", data, "model", model.generator());
    }

    public FractureModel model() {
        return model;
    }

    public List<Epoch> history() {
        return List.copyOf(history);
    }

    public List<StudySlices> validation() {
        return val;
    }

    /**
     * Steps of one epoch, which also sizes the LR schedule. Only studies with a slice that shows a vertebra give
     * draws (see {@link #drawSamples}): counting the others too would leave the last batches empty.
     */
    int stepsPerEpoch() {
        long sampled = train.stream().filter(Trainer::showsSpine).count();
        if (sampled == 0) {
            throw new IllegalArgumentException("none of the " + train.size() + " training studies has a slice that "
                    + "shows a vertebra: nothing to train on");
        }
        return Math.toIntExact((sampled * config.samplesPerStudy() + config.batch() - 1) / config.batch());
    }

    private static boolean showsSpine(StudySlices study) {
        return IntStream.range(0, study.slices()).anyMatch(study::spine);
    }

    /** Trains until {@code untilEpoch} epochs are done (at most the configured count). */
    public void run(int untilEpoch) throws IOException {
        int last = Math.min(untilEpoch, config.epochs());
        LOG.info("training {} on {} studies ({} validation), {} steps per epoch{}", config.model(), train.size(),
                val.size(), stepsPerEpoch(), ema == null ? "" : ", validating a weight average (decay "
                        + config.emaDecay() + ")");
        while (epoch < last) {
            trainEpoch();
        }
    }

    private void trainEpoch() throws IOException {
        long started = System.nanoTime();
        int e = epoch + 1;
        List<int[]> samples = drawSamples();
        int steps = stepsPerEpoch();
        double lossSum = 0;
        int s = config.imageSize();
        int k = config.slices();
        int o = FractureModel.OUTPUTS;
        float fw = FRACTURE_LOSS_WEIGHT;
        Tensor posWeight = Tensor.of(new float[] {1, 1, 1, 1, 1, 1, 1, 2 * fw}, o).to(model.device());
        Tensor negWeight = Tensor.of(new float[] {1, 1, 1, 1, 1, 1, 1, fw}, o).to(model.device());
        model.net().train();
        double lr = 0;
        int skipped = 0;
        List<Integer> fracY = new ArrayList<>();
        List<Double> fracQ = new ArrayList<>();
        try (ProgressBar bar = new ProgressBar(System.err, String.format(Locale.ROOT, "epoch %d/%d", e,
                config.epochs()), steps)) {
            for (int b = 0; b < steps; b++) {
                int from = b * config.batch();
                int n = Math.min(config.batch(), samples.size() - from);
                float[] images = new float[n * s * s * k];
                float[] targets = new float[n * o];
                float[] known = new float[n * o];
                boolean allKnown = true;
                float[][] stacks = new float[n][];
                Augment.Draw[] draws = new Augment.Draw[n];
                for (int i = 0; i < n; i++) {
                    int[] sample = samples.get(from + i);
                    StudySlices study = train.get(sample[0]);
                    stacks[i] = study.stack(sample[1], k);
                    draws[i] = AUGMENT.draw(s, s, k, data);
                    System.arraycopy(study.targets(sample[1]), 0, targets, i * o, o);
                    System.arraycopy(study.weights(sample[1]), 0, known, i * o, o);
                    allKnown &= study.fullyLabelled();
                }
                // The random choices above in sample order, the augmentation itself (a quarter of a demo step's time
                // on one thread, mostly the noise's Gaussians) on the compute threads: the same images as in order.
                CpuThreads.parallelFor(0, n, 1, (i0, i1) -> {
                    for (int i = i0; i < i1; i++) {
                        float[] img = AUGMENT.apply(stacks[i], s, s, k, draws[i]);
                        System.arraycopy(img, 0, images, i * s * s * k, img.length);
                    }
                });
                // The step's activations and gradients go back to the pool for the next step (MemoryScope).
                try (MemoryScope _ = MemoryScope.open()) {
                    lr = schedule.lr(step);
                    optimizer.scheduleLr(lr);
                    Tensor logits;
                    Tensor loss;
                    try (Autocast _ = config.precision().autocast()) {
                        logits = model.net().forward(Tensor.of(images, n, s, s, k).to(model.device()));
                        Tensor y = Tensor.of(targets, n, o).to(model.device());
                        loss = allKnown ? Losses.weightedBceWithLogits(logits, y, posWeight, negWeight, Reduction.MEAN)
                                : maskedMean(Losses.weightedBceWithLogits(logits, y, posWeight, negWeight,
                                Reduction.NONE), known, n, o);
                    }
                    float[] out = logits.toFloatArray();
                    for (int i = 0; i < n; i++) {
                        if (known[i * o + FractureModel.FRACTURE] > 0) {
                            fracY.add(targets[i * o + FractureModel.FRACTURE] > 0 ? 1 : 0);
                            fracQ.add((double) out[i * o + FractureModel.FRACTURE]);
                        }
                    }
                    scaler.scale(loss).backward();
                    scaler.unscale(optimizer);
                    GradClip.clipByGlobalNorm(model.net().trainableParameters(), CLIP);
                    skipped += scaler.step(optimizer) ? 0 : 1;
                    scaler.update();
                    optimizer.zeroGrad();
                    if (ema != null) {
                        ema.update(model.net());
                    }
                    step++;
                    lossSum += loss.item();
                }
                bar.update(b + 1, lossSum / (b + 1), (long) from + n);
            }
        }
        if (scaler.isEnabled()) {
            LOG.info("loss scale {} after the epoch; {} of {} steps skipped for inf/NaN gradients",
                    scaler.currentScale(), skipped, steps);
        }
        LOG.info(String.format(Locale.ROOT, "training AUC: fracture slices %.3f", Roc.auc(
                fracY.stream().mapToInt(Integer::intValue).toArray(),
                fracQ.stream().mapToDouble(Double::doubleValue).toArray())));
        swapAverage(); // validation, the calibration and best.safetensors see the average (when there is one)
        double[] valLosses = validate();
        epoch = e;
        Epoch row = new Epoch(e, lossSum / steps, valLosses[0], valLosses[1], lr, (System.nanoTime() - started) / 1e9);
        history.add(row);
        Files.writeString(run.resolve(METRICS), row.csv() + "\n", StandardCharsets.US_ASCII,
                java.nio.file.StandardOpenOption.APPEND);
        Checkpoint.Info info = new Checkpoint.Info(epoch, step, metadata());
        Checkpoint.save(pending(e), model.net(), optimizer, scaler, info, generators());
        swapAverage();
        LOG.info(String.format(Locale.ROOT, "epoch %d: train loss %.4f, validation slice loss %.4f, validation "
                + "competition loss %.4f (%.0f s)", e, row.trainLoss(), row.valSliceLoss(), row.valLoss(),
                row.seconds()));
        if (e > 1) {
            judge(e - 1);
        }
        if (e == config.epochs()) {
            judge(e);
        }
        Checkpoint.save(run.resolve(LAST), model.net(), optimizer, scaler, ema, info, generators());
    }

    /** Where epoch {@code e}'s checkpoint (as best.safetensors would hold it) waits until the epoch is judged. */
    private Path pending(int e) {
        return run.resolve("pending-" + e + ".safetensors");
    }

    /**
     * Decides whether epoch {@code e}, whose window is now complete, is the best so far: its pending checkpoint
     * becomes best.safetensors, or is deleted. A pending file already gone was judged before an interruption.
     */
    private void judge(int e) throws IOException {
        Path candidate = pending(e);
        if (!Files.exists(candidate)) {
            return;
        }
        double loss = windowLoss(history, e, config.epochs());
        boolean best = true;
        for (int earlier = 1; earlier < e; earlier++) {
            best &= windowLoss(history, earlier, config.epochs()) > loss;
        }
        if (best) {
            Files.move(candidate, run.resolve(BEST), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            LOG.info(String.format(Locale.ROOT, "epoch %d is the best so far: validation loss %.4f over epochs %d-%d",
                    e, loss, Math.max(1, e - 1), Math.min(config.epochs(), e + 1)));
        } else {
            Files.delete(candidate);
        }
    }

    /**
     * The validation loss that ranks epoch {@code e}: the mean of {@link Epoch#rank()} over epochs e − 1, e and
     * e + 1 that exist (1 … {@code epochs}). Ties go to the earlier epoch.
     */
    static double windowLoss(List<Epoch> history, int e, int epochs) {
        double sum = 0;
        int n = 0;
        for (Epoch h : history) {
            if (Math.abs(h.epoch() - e) <= 1 && h.epoch() <= epochs) {
                sum += h.rank();
                n++;
            }
        }
        return n == 0 ? Double.POSITIVE_INFINITY : sum / n;
    }

    /** Exchanges the live weights and the average; a no-op without one. Twice restores both exactly. */
    private void swapAverage() {
        if (ema != null) {
            ema.swap(model.net());
        }
    }

    /** The mean of the per-element losses whose target is known ({@code known} 1), [n, o] → scalar. */
    private Tensor maskedMean(Tensor perElement, float[] known, int n, int o) {
        double count = 0;
        for (float w : known) {
            count += w;
        }
        return perElement.mul(Tensor.of(known, n, o).to(model.device())).sum().div(Math.max(1, count));
    }

    /** This epoch's (study, slice) draws, shuffled. */
    private List<int[]> drawSamples() {
        List<int[]> samples = new ArrayList<>();
        for (int i = 0; i < train.size(); i++) {
            StudySlices st = train.get(i);
            boolean spine = false;
            List<Integer> positive = new ArrayList<>();
            for (int s = 0; s < st.slices(); s++) {
                spine |= st.spine(s);
                if (st.positive(s)) {
                    positive.add(s);
                }
            }
            if (!spine) {
                continue; // stepsPerEpoch does not count this study either
            }
            // The other draws come from every slice, those without a vertebra included: the visibility outputs
            // must learn "no vertebra here" too, or they make up anything on the slices above, below and between
            // the vertebrae, and SpineLevels cannot find the spine.
            for (int j = 0; j < config.samplesPerStudy(); j++) {
                int s = !positive.isEmpty() && j % 2 == 0 ? positive.get(data.nextInt(positive.size()))
                        : data.nextInt(st.slices());
                samples.add(new int[] {i, s});
            }
        }
        for (int i = samples.size() - 1; i > 0; i--) {
            int j = data.nextInt(i + 1);
            int[] tmp = samples.get(i);
            samples.set(i, samples.get(j));
            samples.set(j, tmp);
        }
        return samples;
    }

    /** {mean weighted slice BCE, competition loss} over the validation studies; NaN when there are none. */
    private double[] validate() {
        if (val.isEmpty()) {
            if (epoch == 0) {
                LOG.warn("no validation studies: the study probabilities stay uncalibrated (pooled slice scores are "
                        + "far too confident for a log loss); keep --val-fraction above 0");
            }
            return new double[] {Double.NaN, Double.NaN};
        }
        SequencedMap<String, int[]> labels = new LinkedHashMap<>();
        Map<String, double[]> pooled = new LinkedHashMap<>();
        Map<String, float[][]> last = new LinkedHashMap<>();
        double sliceLoss = 0;
        long count = 0;
        List<Integer> sliceY = new ArrayList<>();
        List<Double> sliceQ = new ArrayList<>();
        for (StudySlices st : val) {
            StudyPrediction p = model.predict(st);
            labels.put(st.uid(), st.labels());
            pooled.put(st.uid(), p.pooled());
            last.put(st.uid(), p.logits());
            for (int s = 0; s < st.slices(); s++) {
                float[] t = st.targets(s);
                float[] known = st.weights(s);
                for (int c = 0; c < FractureModel.OUTPUTS; c++) {
                    if (known[c] == 0) {
                        continue;
                    }
                    double x = p.logits()[s][c];
                    double w = c == FractureModel.FRACTURE && t[c] > 0 ? 2 : 1;
                    sliceLoss += w * (t[c] > 0 ? softplus(-x) : softplus(x));
                    count++;
                }
                if (st.spine(s) && known[FractureModel.FRACTURE] > 0) {
                    sliceY.add(t[FractureModel.FRACTURE] > 0 ? 1 : 0);
                    sliceQ.add((double) p.logits()[s][FractureModel.FRACTURE]);
                }
            }
        }
        Calibration calibration = Calibration.fit(labels, pooled);
        model.calibration(calibration);
        Map<String, double[]> predictions = new LinkedHashMap<>();
        pooled.forEach((uid, q) -> predictions.put(uid, calibration.apply(q)));
        double constant = Double.POSITIVE_INFINITY;
        for (double b = -8; b <= 4; b += 0.025) {
            Calibration c = new Calibration(0, b).withFloorsFor(labels.size());
            constant = Math.min(constant, Calibration.loss(c, labels, pooled));
        }
        LOG.info(String.format(Locale.ROOT, "validation competition loss %.4f uncalibrated, %.4f best constant; "
                + "calibration scale %.3f, bias %.3f, patient_overall scale %.3f, bias %.3f",
                Calibration.loss(Calibration.IDENTITY, labels, pooled), constant, calibration.scale(),
                calibration.bias(), calibration.overallScale(), calibration.overallBias()));
        // Separation, logged only: AUC of patient_overall, and of C1..C7 pooled over (study, vertebra) pairs.
        // "with true visibility": the same pooling over the slices the segmentation says show Ck, which tells
        // whether a weak vertebra AUC comes from the fracture output or from the visibility outputs.
        int[] y = new int[7 * val.size()];
        double[] q = new double[7 * val.size()];
        double[] qTrue = new double[7 * val.size()];
        int i = 0;
        for (StudySlices st : val) {
            float[][] logits = last.get(st.uid());
            for (int k = 0; k < 7; k++, i++) {
                y[i] = st.labels()[k];
                q[i] = pooled.get(st.uid())[k];
                qTrue[i] = st.visible() == null ? 0.5
                        : config.pooling().pool(StudyPrediction.shown(logits, st.visible(), k), config.topK());
            }
        }
        long[] agree = new long[2];
        long[] union = new long[2];
        long runOff = 0;
        for (StudySlices st : val) {
            int[] trueRun = st.spineRun();
            if (trueRun == null) {
                continue;
            }
            int[] run = SpineLevels.spineRun(last.get(st.uid()));
            runOff += Math.abs(run[0] - trueRun[0]) + Math.abs(run[1] - trueRun[1]);
            boolean[][][] decoded = {SpineLevels.layOver(run, st.slices(), model.atlas()),
                    SpineLevels.layOver(trueRun, st.slices(), model.atlas())};
            for (int d = 0; d < 2; d++) {
                for (int s = 0; s < st.slices(); s++) {
                    for (int k = 0; k < 7; k++) {
                        agree[d] += decoded[d][s][k] && st.visible()[s][k] ? 1 : 0;
                        union[d] += decoded[d][s][k] || st.visible()[s][k] ? 1 : 0;
                    }
                }
            }
        }
        LOG.info(String.format(Locale.ROOT, "validation: decoded vertebra slices IoU %.3f (%.3f on the true spine "
                + "run; run ends off by %.1f slices per study)", agree[0] / (double) union[0],
                agree[1] / (double) union[1], runOff / (double) val.size()));
        LOG.info(String.format(Locale.ROOT, "validation AUC: fracture slices %.3f, vertebrae (pooled) %.3f "
                + "(with true visibility %.3f), patient_overall %.3f",
                Roc.auc(sliceY.stream().mapToInt(Integer::intValue).toArray(),
                        sliceQ.stream().mapToDouble(Double::doubleValue).toArray()), Roc.auc(y, q), Roc.auc(y, qTrue),
                Evaluation.of(labels, rawOverall(pooled)).auc().get("patient_overall")));
        return new double[] {sliceLoss / count, CompetitionMetric.score(labels, predictions).score()};
    }

    /**
     * Pooled C1..C7 with patient_overall = 1 − Π(1 − p), uncalibrated (for AUCs, which a constant map would hide).
     */
    private static Map<String, double[]> rawOverall(Map<String, double[]> pooled) {
        Map<String, double[]> out = new LinkedHashMap<>();
        pooled.forEach((uid, q) -> {
            double[] p = q.clone();
            p[7] = Pooling.overall(p);
            out.put(uid, p);
        });
        return out;
    }

    private static double softplus(double x) {
        return x > 30 ? x : Math.log1p(Math.exp(x));
    }

    /** Split by study: a seeded shuffle, the first {@code fraction} (at least one when asked for any) validate. */
    static List<List<StudySlices>> split(List<StudySlices> studies, double fraction, long seed) {
        List<StudySlices> shuffled = new ArrayList<>(studies);
        Generator g = new Generator(seed ^ 0x9E3779B97F4A7C15L);
        for (int i = shuffled.size() - 1; i > 0; i--) {
            int j = g.nextInt(i + 1);
            StudySlices tmp = shuffled.get(i);
            shuffled.set(i, shuffled.get(j));
            shuffled.set(j, tmp);
        }
        int nVal = fraction <= 0 || studies.size() < 2 ? 0
                : Math.clamp(Math.round(fraction * studies.size()), 1, studies.size() - 1);
        return List.of(List.copyOf(shuffled.subList(nVal, shuffled.size())), List.copyOf(shuffled.subList(0, nVal)));
    }
}
