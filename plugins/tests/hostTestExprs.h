// Test implementations of IDimensionExpr / IExprBuilder (TensorRT's own live in libnvinfer, absent here).
#ifndef AN_DEPLOY_HOST_TEST_EXPRS_H
#define AN_DEPLOY_HOST_TEST_EXPRS_H

#include "NvInferRuntime.h"

#include <cstdint>
#include <deque>

namespace an_test
{

class TestDimImpl : public nvinfer1::apiv::VDimensionExpr
{
public:
    TestDimImpl(bool constant, int64_t value)
        : mConstant(constant)
        , mValue(value)
    {
    }
    bool isConstant() const override
    {
        return mConstant;
    }
    int64_t getConstantValue() const override
    {
        return mConstant ? mValue : -1;
    }
    bool isSizeTensor() const override
    {
        return false;
    }

private:
    bool mConstant;
    int64_t mValue;
};

class TestDimExpr : public nvinfer1::IDimensionExpr
{
public:
    TestDimExpr(bool constant, int64_t value)
        : mOwned(constant, value)
    {
        mImpl = &mOwned;
    }
    ~TestDimExpr() noexcept override = default;

private:
    TestDimImpl mOwned;
};

//! Owns every expression it hands out; constants fold, anything with a symbol stays symbolic.
class TestBuilderImpl : public nvinfer1::apiv::VExprBuilder
{
public:
    nvinfer1::IDimensionExpr const* constant(int64_t value) override
    {
        mExprs.emplace_back(true, value);
        return &mExprs.back();
    }
    nvinfer1::IDimensionExpr const* symbol()
    {
        mExprs.emplace_back(false, -1);
        return &mExprs.back();
    }
    nvinfer1::IDimensionExpr const* operation(
        nvinfer1::DimensionOperation op, nvinfer1::IDimensionExpr const& a, nvinfer1::IDimensionExpr const& b) override
    {
        if (!a.isConstant() || !b.isConstant())
        {
            return symbol();
        }
        int64_t const x = a.getConstantValue();
        int64_t const y = b.getConstantValue();
        using nvinfer1::DimensionOperation;
        switch (op)
        {
        case DimensionOperation::kSUM: return constant(x + y);
        case DimensionOperation::kPROD: return constant(x * y);
        case DimensionOperation::kMAX: return constant(x > y ? x : y);
        case DimensionOperation::kMIN: return constant(x < y ? x : y);
        case DimensionOperation::kSUB: return constant(x - y);
        case DimensionOperation::kEQUAL: return constant(x == y);
        case DimensionOperation::kLESS: return constant(x < y);
        case DimensionOperation::kFLOOR_DIV: return y == 0 ? symbol() : constant(x / y);
        case DimensionOperation::kCEIL_DIV: return y == 0 ? symbol() : constant((x + y - 1) / y);
        }
        return symbol();
    }
    nvinfer1::IDimensionExpr const* declareSizeTensor(
        int32_t, nvinfer1::IDimensionExpr const&, nvinfer1::IDimensionExpr const&) override
    {
        return symbol();
    }

private:
    std::deque<TestDimExpr> mExprs;
};

class TestExprBuilder : public nvinfer1::IExprBuilder
{
public:
    TestExprBuilder()
    {
        mImpl = &mOwned;
    }
    ~TestExprBuilder() noexcept override = default;
    nvinfer1::IDimensionExpr const* symbol()
    {
        return mOwned.symbol();
    }

private:
    TestBuilderImpl mOwned;
};

} // namespace an_test

#endif // AN_DEPLOY_HOST_TEST_EXPRS_H
