//! The audio branch at evaluation size: one clip's 16 chunks of 5 s (`[16, 128, 313]`) as one
//! batch under `no_grad`, and the chunk-by-chunk path it replaces.

use criterion::{criterion_group, criterion_main, Criterion};
use storyscore::model::{AudioCnn, AudioCnnConfig, Head};
use tch::nn::{self, ModuleT};
use tch::{Device, Tensor};

fn embed_clip(c: &mut Criterion) {
    let vs = nn::VarStore::new(Device::Cpu);
    let cnn = AudioCnn::new(&vs.root(), AudioCnnConfig::default());
    let head = Head::new(&vs.root(), "song", 256, 128, 64);
    let chunks = Tensor::randn([16, 128, 313], tch::kind::FLOAT_CPU) * 20.0 - 40.0;
    let mut group = c.benchmark_group("embed_clip");
    group.sample_size(10);
    group.bench_function("16_chunks_one_batch", |b| {
        b.iter(|| {
            tch::no_grad(|| head.forward_t(&cnn.forward_t(&chunks, false), false).mean(tch::Kind::Float))
        })
    });
    group.bench_function("16_chunks_one_by_one", |b| {
        b.iter(|| {
            tch::no_grad(|| {
                let rows: Vec<Tensor> = (0..16)
                    .map(|i| head.forward_t(&cnn.forward_t(&chunks.narrow(0, i, 1), false), false))
                    .collect();
                Tensor::cat(&rows, 0).mean(tch::Kind::Float)
            })
        })
    });
    group.finish();
}

criterion_group!(benches, embed_clip);
criterion_main!(benches);
