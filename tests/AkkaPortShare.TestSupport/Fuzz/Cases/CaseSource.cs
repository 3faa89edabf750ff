namespace AkkaPortShare.TestSupport.Fuzz.Cases;

/// <summary>
/// The fuzz corpus for a seed: case i is generated from its own seeded <see cref="Random"/>, so any single case
/// can be reproduced from (seed, i) alone, whatever order or concurrency the run used. About half the cases
/// are generated as built, half are mutations of a generated case.
/// </summary>
public sealed class CaseSource(FuzzTarget target, int seed, double mutatedShare = 0.5)
{
    private readonly PreambleGenerator _generator = new(target);

    public FuzzTarget Target => target;

    public int Seed => seed;

    public PreambleCase Case(long index)
    {
        var random = new Random(unchecked((int)(seed * 1_000_003L + index * 7_919L) ^ (int)(index >> 32)));
        var generated = _generator.Next(index, random);
        if (random.NextDouble() >= mutatedShare) return generated;
        return PreambleMutator.Mutate(generated, _generator.Next(index, random), random);
    }
}
