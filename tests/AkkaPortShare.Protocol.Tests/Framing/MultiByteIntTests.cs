using System.Buffers;
using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Protocol.Tests.Framing;

public sealed class MultiByteIntTests
{
    [Theory]
    [InlineData(0, "00")]
    [InlineData(127, "7F")]
    [InlineData(128, "8001")]
    [InlineData(300, "AC02")]
    [InlineData(16384, "808001")]
    [InlineData(int.MaxValue, "FFFFFFFF07")]
    public void Write_and_TryRead_match_the_reference_examples(int value, string hex)
    {
        Span<byte> buffer = stackalloc byte[MultiByteInt.MaxEncodedSize];
        int written = MultiByteInt.Write(buffer, value);

        Assert.Equal(hex, Bytes.ToHex(buffer[..written]));
        Assert.Equal(written, MultiByteInt.EncodedSize(value));
        Assert.Equal(OperationStatus.Done, MultiByteInt.TryRead(Bytes.Hex(hex), out int read, out int consumed));
        Assert.Equal(value, read);
        Assert.Equal(written, consumed);
    }

    public static IEnumerable<int> InterestingValues()
    {
        for (int bit = 0; bit < 31; bit++)
        {
            int p = 1 << bit;
            yield return p - 1;
            yield return p;
            yield return p + 1;
        }

        yield return int.MaxValue - 1;
        yield return int.MaxValue;
        var random = new Random(12345);
        for (int i = 0; i < 2000; i++)
        {
            yield return random.Next(0, int.MaxValue);
        }
    }

    [Fact]
    public void Round_trips_many_values_with_trailing_bytes_untouched()
    {
        Span<byte> buffer = stackalloc byte[MultiByteInt.MaxEncodedSize + 2];
        foreach (int value in InterestingValues())
        {
            buffer.Fill(0xEE);
            int written = MultiByteInt.Write(buffer, value);
            Assert.Equal(MultiByteInt.EncodedSize(value), written);
            Assert.Equal(0xEE, buffer[written]);

            Assert.Equal(OperationStatus.Done, MultiByteInt.TryRead(buffer, out int read, out int consumed));
            Assert.Equal(value, read);
            Assert.Equal(written, consumed);
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(127, 1)]
    [InlineData(128, 2)]
    [InlineData(16383, 2)]
    [InlineData(16384, 3)]
    [InlineData(2097151, 3)]
    [InlineData(2097152, 4)]
    [InlineData(268435455, 4)]
    [InlineData(268435456, 5)]
    public void EncodedSize_steps_every_seven_bits(int value, int size)
    {
        Assert.Equal(size, MultiByteInt.EncodedSize(value));
    }

    [Fact]
    public void TryRead_reports_NeedMoreData_with_nothing_consumed_for_every_truncation()
    {
        var full = Bytes.Hex("FFFFFFFF07");
        for (int length = 0; length < full.Length; length++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, MultiByteInt.TryRead(full.AsSpan(0, length), out int value, out int consumed));
            Assert.Equal(0, consumed);
            Assert.Equal(0, value);
        }
    }

    [Theory]
    [InlineData("FFFFFFFF08")]   // 5th byte 0x08: value would be 2^31
    [InlineData("FFFFFFFF0F")]
    [InlineData("8080808010")]
    [InlineData("8080808040")]
    [InlineData("808080808001")] // a 6th byte announced
    [InlineData("FFFFFFFFFF")]
    public void TryRead_rejects_values_beyond_31_bits(string hex)
    {
        Assert.Equal(OperationStatus.InvalidData, MultiByteInt.TryRead(Bytes.Hex(hex), out int value, out int consumed));
        Assert.Equal(0, value);
        Assert.Equal(0, consumed);
    }

    [Theory]
    [InlineData("8000", 0, 2)]
    [InlineData("8080808000", 0, 5)]
    [InlineData("8180808000", 1, 5)]
    [InlineData("FF00", 127, 2)]
    [InlineData("AC820000", 300, 3)] // trailing 00 is not part of the integer
    public void TryRead_accepts_non_minimal_encodings(string hex, int expected, int expectedConsumed)
    {
        Assert.Equal(OperationStatus.Done, MultiByteInt.TryRead(Bytes.Hex(hex), out int value, out int consumed));
        Assert.Equal(expected, value);
        Assert.Equal(expectedConsumed, consumed);
    }

    [Fact]
    public void Write_rejects_negative_values_and_short_destinations()
    {
        var buffer = new byte[5];
        Assert.Throws<ArgumentOutOfRangeException>(() => MultiByteInt.Write(buffer, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MultiByteInt.EncodedSize(int.MinValue));
        Assert.Throws<ArgumentException>(() => MultiByteInt.Write(new byte[1], 128));
        Assert.Equal(1, MultiByteInt.Write(new byte[1], 127));
    }

    [Fact]
    public void Incremental_reader_handles_every_split_point()
    {
        var stream = Bytes.Concat(Bytes.MbInt(int.MaxValue), Bytes.MbInt(0), Bytes.MbInt(300), Bytes.Hex("8080808000"), Bytes.MbInt(16384));
        int[] expected = [int.MaxValue, 0, 300, 0, 16384];

        foreach (var (split, ends) in Splits.All(stream.Length))
        {
            var reader = default(MultiByteIntReader);
            var values = new List<int>();
            int offset = 0;
            foreach (int end in ends)
            {
                while (offset < end)
                {
                    var status = reader.Read(stream.AsSpan(offset, end - offset), out int value, out int consumed);
                    offset += consumed;
                    if (status == OperationStatus.Done)
                    {
                        values.Add(value);
                    }
                    else
                    {
                        Assert.Equal(OperationStatus.NeedMoreData, status);
                        Assert.Equal(end, offset);
                    }
                }
            }

            Assert.True(expected.SequenceEqual(values), split);
            Assert.False(reader.InProgress);
        }
    }
}
