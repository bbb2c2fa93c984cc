#include "engine/dialect_rewrite.h"

#include <duckdb.hpp>
#include <duckdb/parser/expression/cast_expression.hpp>
#include <duckdb/parser/expression/function_expression.hpp>
#include <duckdb/parser/expression/lambda_expression.hpp>
#include <duckdb/parser/expression/subquery_expression.hpp>
#include <duckdb/parser/parsed_expression_iterator.hpp>
#include <duckdb/parser/parser.hpp>
#include <duckdb/parser/query_node.hpp>
#include <duckdb/parser/statement/select_statement.hpp>
#include <duckdb/parser/tableref/subqueryref.hpp>

#include "common/text.h"

namespace aqueducts::engine {
namespace {

using duckdb::ExpressionClass;
using duckdb::ParsedExpression;
using duckdb::ParsedExpressionIterator;
using duckdb::unique_ptr;

bool IsTextType(const duckdb::LogicalType& type) {
  if (type.id() == duckdb::LogicalTypeId::VARCHAR) {
    return true;
  }
  // Depending on the parser, a type name may stay unresolved until binding.
  std::string name = ToLowerAscii(type.ToString());
  return name == "varchar" || name == "text" || name == "string";
}

class Rewriter {
 public:
  int rewrites() const { return rewrites_; }

  void Node(duckdb::QueryNode& node) {
    for (auto& cte : node.cte_map.map) {
      if (cte.second && cte.second->query && cte.second->query->node) {
        Node(*cte.second->query->node);
      }
    }
    ParsedExpressionIterator::EnumerateQueryNodeChildren(
        node, [&](unique_ptr<ParsedExpression>& child) { Expression(child); },
        [&](duckdb::TableRef& ref) { Ref(ref); });
  }

 private:
  void Ref(duckdb::TableRef& ref) {
    if (ref.type == duckdb::TableReferenceType::SUBQUERY) {
      auto& sub = ref.Cast<duckdb::SubqueryRef>();
      if (sub.subquery && sub.subquery->node) {
        Node(*sub.subquery->node);
      }
    }
  }

  void Expression(unique_ptr<ParsedExpression>& expr) {
    if (!expr) {
      return;
    }
    if (expr->GetExpressionClass() == ExpressionClass::FUNCTION) {
      PositionalAggregate(expr);
    }
    if (expr->GetExpressionClass() == ExpressionClass::CAST) {
      auto& cast = expr->Cast<duckdb::CastExpression>();
      if (IsTextType(cast.cast_type) && cast.child &&
          cast.child->GetExpressionClass() == ExpressionClass::LAMBDA) {
        auto& arrow = cast.child->Cast<duckdb::LambdaExpression>();
        if (arrow.lhs && arrow.expr) {
          duckdb::vector<unique_ptr<ParsedExpression>> args;
          args.push_back(std::move(arrow.lhs));
          args.push_back(std::move(arrow.expr));
          auto call =
              duckdb::make_uniq<duckdb::FunctionExpression>("json_extract_string", std::move(args));
          call->alias = expr->alias;
          expr = std::move(call);
          rewrites_++;
        }
      }
    }
    if (expr->GetExpressionClass() == ExpressionClass::SUBQUERY) {
      auto& sub = expr->Cast<duckdb::SubqueryExpression>();
      if (sub.subquery && sub.subquery->node) {
        Node(*sub.subquery->node);
      }
    }
    ParsedExpressionIterator::EnumerateChildren(
        *expr, [&](unique_ptr<ParsedExpression>& child) { Expression(child); });
  }

  // DataFusion's first_value / last_value / nth_value used as aggregates (no OVER clause: with
  // one, DuckDB parses them as its window functions, which have the same meaning). DuckDB has
  // them as window functions only; its aggregates first(x ORDER BY y) and last(...) are the
  // same, and nth_value(x, n ORDER BY y) is list(x ORDER BY y)[n] (n < 0 counts from the end).
  void PositionalAggregate(unique_ptr<ParsedExpression>& expr) {
    auto& call = expr->Cast<duckdb::FunctionExpression>();
    if (!call.schema.empty() || !call.catalog.empty()) {
      return;
    }
    std::string name = ToLowerAscii(call.function_name);
    if ((name == "first_value" || name == "last_value") && call.children.size() == 1) {
      call.function_name = name == "first_value" ? "first" : "last";
      rewrites_++;
    } else if (name == "nth_value" && call.children.size() == 2) {
      auto n = std::move(call.children[1]);
      call.children.pop_back();
      call.function_name = "list";
      duckdb::vector<unique_ptr<ParsedExpression>> args;
      std::string alias = expr->alias;
      expr->alias.clear();
      args.push_back(std::move(expr));
      args.push_back(std::move(n));
      auto element =
          duckdb::make_uniq<duckdb::FunctionExpression>("array_extract", std::move(args));
      element->alias = alias;
      expr = std::move(element);
      rewrites_++;
    }
  }

  int rewrites_ = 0;
};

}  // namespace

std::string RewriteDataFusionSql(const std::string& sql) {
  std::string lower = ToLowerAscii(sql);
  if (lower.find("->") == std::string::npos && lower.find("first_value") == std::string::npos &&
      lower.find("last_value") == std::string::npos &&
      lower.find("nth_value") == std::string::npos) {
    return sql;  // nothing to rewrite: skip the parse
  }
  try {
    duckdb::Parser parser;
    parser.ParseQuery(sql);
    if (parser.statements.size() != 1 ||
        parser.statements[0]->type != duckdb::StatementType::SELECT_STATEMENT) {
      return sql;
    }
    auto& select = parser.statements[0]->Cast<duckdb::SelectStatement>();
    Rewriter rewriter;
    rewriter.Node(*select.node);
    return rewriter.rewrites() == 0 ? sql : select.ToString();
  } catch (const std::exception&) {
    return sql;
  }
}

}  // namespace aqueducts::engine
