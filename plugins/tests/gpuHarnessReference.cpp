#include "gpuHarnessReference.h"

#include <algorithm>
#include <cmath>

namespace an_test
{

std::vector<double> referenceForward(std::vector<double> const& x, std::vector<std::vector<float>> const& p,
    AnAttentiveNormAttributes const& a, int64_t n, int64_t h, int64_t w)
{
    int64_t const c = a.num_channels;
    int64_t const k = a.num_affine;
    int64_t const h1 = a.attn_hidden;
    int64_t const l = h * w;
    std::vector<double> y(x.size());
    std::vector<double> mean(static_cast<size_t>(c));
    std::vector<double> var(static_cast<size_t>(c));
    std::vector<double> mx(static_cast<size_t>(c));
    for (int64_t s = 0; s < n; ++s)
    {
        double const* xs = x.data() + s * c * l;
        std::vector<double> u(static_cast<size_t>(c));
        for (int64_t ch = 0; ch < c; ++ch)
        {
            double sum = 0.0;
            double m = -INFINITY;
            for (int64_t i = 0; i < l; ++i)
            {
                sum += xs[ch * l + i];
                m = std::max(m, xs[ch * l + i]);
            }
            double const mu = sum / static_cast<double>(l);
            double ss = 0.0;
            for (int64_t i = 0; i < l; ++i)
            {
                ss += (xs[ch * l + i] - mu) * (xs[ch * l + i] - mu);
            }
            mean[ch] = mu;
            var[ch] = ss / static_cast<double>(std::max<int64_t>(l - 1, 1));
            mx[ch] = m;
            u[ch] = a.attn_input == 0 ? mu / std::sqrt(var[ch] + a.eps_var) : a.attn_input == 1 ? mu : mu + m;
        }
        std::vector<double> hid(static_cast<size_t>(h1));
        for (int64_t j = 0; j < h1; ++j)
        {
            double acc = p[1][j];
            for (int64_t ch = 0; ch < c; ++ch)
            {
                acc += static_cast<double>(p[0][j * c + ch]) * u[ch];
            }
            hid[j] = a.hidden_activation == 1 ? std::max(acc, 0.0) : acc;
        }
        std::vector<double> z(static_cast<size_t>(k));
        for (int64_t i = 0; i < k; ++i)
        {
            double acc = p[3][i];
            for (int64_t j = 0; j < h1; ++j)
            {
                acc += static_cast<double>(p[2][i * h1 + j]) * hid[j];
            }
            z[i] = acc;
        }
        if (a.attn_norm_groups > 0)
        {
            int64_t const per = k / a.attn_norm_groups;
            for (int64_t g = 0; g < a.attn_norm_groups; ++g)
            {
                double m = 0.0;
                double v = 0.0;
                for (int64_t i = 0; i < per; ++i)
                {
                    m += z[g * per + i] / static_cast<double>(per);
                }
                for (int64_t i = 0; i < per; ++i)
                {
                    v += (z[g * per + i] - m) * (z[g * per + i] - m) / static_cast<double>(per);
                }
                for (int64_t i = 0; i < per; ++i)
                {
                    z[g * per + i] = (z[g * per + i] - m) / std::sqrt(v + a.attn_norm_eps);
                }
            }
        }
        double zmax = -INFINITY;
        for (int64_t i = 0; i < k; ++i)
        {
            z[i] = z[i] * p[4][i] + p[5][i];
            zmax = std::max(zmax, z[i]);
        }
        double total = 0.0;
        for (int64_t i = 0; i < k; ++i)
        {
            if (a.activation == 0)
            {
                z[i] = 1.0 / (1.0 + std::exp(-z[i]));
            }
            else if (a.activation == 1)
            {
                z[i] = std::min(std::max(z[i] + 3.0, 0.0), 6.0) / 6.0;
            }
            else
            {
                z[i] = std::exp(z[i] - zmax);
                total += z[i];
            }
        }
        for (int64_t i = 0; a.activation == 2 && i < k; ++i)
        {
            z[i] /= total;
        }
        int64_t const per = a.norm_type == 1 ? c / a.num_groups : 1;
        for (int64_t ch = 0; ch < c; ++ch)
        {
            double gamma = 0.0;
            double beta = 0.0;
            for (int64_t i = 0; i < k; ++i)
            {
                gamma += z[i] * p[6][i * c + ch];
                beta += z[i] * p[7][i * c + ch];
            }
            double gm = 0.0;
            double gr = 1.0;
            if (a.norm_type == 1)
            {
                int64_t const c0 = ch / per * per;
                double sum = 0.0;
                for (int64_t q = c0; q < c0 + per; ++q)
                {
                    for (int64_t i = 0; i < l; ++i)
                    {
                        sum += xs[q * l + i];
                    }
                }
                gm = sum / static_cast<double>(per * l);
                double ss = 0.0;
                for (int64_t q = c0; q < c0 + per; ++q)
                {
                    for (int64_t i = 0; i < l; ++i)
                    {
                        ss += (xs[q * l + i] - gm) * (xs[q * l + i] - gm);
                    }
                }
                gr = 1.0 / std::sqrt(ss / static_cast<double>(per * l) + a.epsilon);
            }
            for (int64_t i = 0; i < l; ++i)
            {
                double const xn = (xs[ch * l + i] - gm) * gr;
                y[static_cast<size_t>(s * c * l + ch * l + i)] = gamma * (xn * p[8][ch] + p[9][ch]) + beta;
            }
        }
    }
    return y;
}

} // namespace an_test
