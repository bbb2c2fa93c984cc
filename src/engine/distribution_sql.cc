// AnalyzeQuery and SplitAggregate (engine/distribution_sql.h), on DuckDB's parsed query tree.

#include "engine/distribution_sql.h"

#include <algorithm>
#include <mutex>
#include <set>

#include <duckdb.hpp>
#include <duckdb/parser/expression/cast_expression.hpp>
#include <duckdb/parser/expression/columnref_expression.hpp>
#include <duckdb/parser/expression/constant_expression.hpp>
#include <duckdb/parser/expression/function_expression.hpp>
#include <duckdb/parser/parsed_expression_iterator.hpp>
#include <duckdb/parser/parser.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/result_modifier.hpp>
#include <duckdb/parser/statement/select_statement.hpp>
#include <duckdb/parser/tableref/basetableref.hpp>
#include <duckdb/parser/tableref/joinref.hpp>
#include <duckdb/parser/tableref/subqueryref.hpp>

#include "common/text.h"
#include "engine/duckdb_error.h"

namespace aqueducts::engine {
namespace {

using duckdb::ExpressionClass;
using duckdb::ParsedExpression;
using duckdb::ParsedExpressionIterator;
using duckdb::unique_ptr;

// The names of DuckDB's aggregate functions, read once from its catalog (the parser alone does
// not know whether `f(x)` aggregates).
const std::set<std::string>& AggregateNames() {
  static std::once_flag once;
  static std::set<std::string> names;
  std::call_once(once, [] {
    try {
      duckdb::DuckDB db(nullptr);
      duckdb::Connection conn(db);
      auto result = conn.Query(
          "SELECT DISTINCT function_name FROM duckdb_functions() "
          "WHERE function_type = 'aggregate'");
      if (!result->HasError()) {
        for (idx_t i = 0; i < result->RowCount(); i++) {
          names.insert(ToLowerAscii(result->GetValue(0, i).ToString()));
        }
      }
    } catch (const std::exception&) {
      // Left empty: every function then counts as scalar, and AnalyzeQuery refuses nothing it
      // should have; callers see this only if DuckDB cannot open an in-memory database.
    }
  });
  return names;
}

bool IsAggregate(const ParsedExpression& expr) {
  if (expr.GetExpressionClass() != ExpressionClass::FUNCTION) {
    return false;
  }
  const auto& function = expr.Cast<duckdb::FunctionExpression>();
  return AggregateNames().count(ToLowerAscii(function.function_name)) != 0;
}

// Aggregates SplitAggregate knows how to split; the name as DuckDB spells it in the parse tree.
bool IsDecomposable(const duckdb::FunctionExpression& function) {
  static const std::set<std::string> kNames = {"count_star", "count", "sum",  "min",
                                               "max",        "avg",   "mean", "bool_and",
                                               "bool_or",    "every", "any"};
  std::string name = ToLowerAscii(function.function_name);
  if (kNames.count(name) == 0 || function.distinct || function.export_state) {
    return false;
  }
  if (function.order_bys && !function.order_bys->orders.empty()) {
    return false;
  }
  size_t arity = name == "count_star" ? 0 : 1;
  return function.children.size() == arity || (name == "count" && function.children.empty());
}

struct Walk {
  std::set<std::string> ctes;
  std::vector<std::string> tables;
  std::vector<std::string> not_splittable;
  std::string whole_reason;  // first reason the query needs the whole relation
  // A result modifier (ORDER BY, LIMIT, DISTINCT) of the top query: needs the whole relation,
  // unless the query aggregates (the final step then applies it).
  std::string modifier_reason;
  bool has_aggregate = false;
  std::string non_decomposable;  // first aggregate that cannot be split

  void Whole(const std::string& reason) {
    if (whole_reason.empty()) {
      whole_reason = reason;
    }
  }
  void AddTable(const std::string& name, bool splittable) {
    std::string lower = ToLowerAscii(name);
    if (ctes.count(lower) != 0) {
      return;
    }
    tables.push_back(lower);
    if (!splittable) {
      not_splittable.push_back(lower);
    }
  }

  // Tables of a subquery: read whole, never the split one.
  void Subquery(duckdb::QueryNode& node) {
    Walk inner;
    inner.ctes = ctes;
    inner.Node(node, /*top=*/false);
    for (const auto& table : inner.tables) {
      AddTable(table, false);
    }
  }

  void Expression(ParsedExpression& expr, bool in_aggregate) {
    switch (expr.GetExpressionClass()) {
      case ExpressionClass::WINDOW:
        Whole("a window function (" + expr.ToString() + ") needs every row at once");
        return;
      case ExpressionClass::SUBQUERY: {
        Whole("a subquery expression (" + expr.ToString() + ") is run on the whole relation");
        return;
      }
      case ExpressionClass::FUNCTION:
        if (IsAggregate(expr)) {
          has_aggregate = true;
          auto& function = expr.Cast<duckdb::FunctionExpression>();
          if (in_aggregate) {
            Whole("an aggregate nested in an aggregate (" + expr.ToString() + ")");
          } else if (!IsDecomposable(function) && non_decomposable.empty()) {
            non_decomposable = expr.ToString();
          }
          in_aggregate = true;
        }
        break;
      default:
        break;
    }
    ParsedExpressionIterator::EnumerateChildren(
        expr, [&](ParsedExpression& child) { Expression(child, in_aggregate); });
  }

  // `keep_whole`: the rows of this side are kept or tested as a whole by an enclosing join.
  void Ref(duckdb::TableRef& ref, bool keep_whole) {
    switch (ref.type) {
      case duckdb::TableReferenceType::BASE_TABLE: {
        auto& base = ref.Cast<duckdb::BaseTableRef>();
        if (base.at_clause) {
          Whole("a time-travel clause (AT) on '" + base.table_name + "'");
        }
        AddTable(base.table_name, !keep_whole);
        return;
      }
      case duckdb::TableReferenceType::JOIN: {
        auto& join = ref.Cast<duckdb::JoinRef>();
        bool left_whole = keep_whole;
        bool right_whole = keep_whole;
        if (join.ref_type == duckdb::JoinRefType::POSITIONAL) {
          Whole("a POSITIONAL JOIN pairs rows by position across the whole relation");
        } else if (join.ref_type == duckdb::JoinRefType::ASOF) {
          right_whole = true;
          if (join.type != duckdb::JoinType::INNER && join.type != duckdb::JoinType::LEFT) {
            Whole("an ASOF join other than INNER or LEFT");
          }
        } else {
          switch (join.type) {
            case duckdb::JoinType::INNER:
              break;
            case duckdb::JoinType::LEFT:
            case duckdb::JoinType::SEMI:
            case duckdb::JoinType::ANTI:
            case duckdb::JoinType::MARK:
            case duckdb::JoinType::SINGLE:
              right_whole = true;
              break;
            case duckdb::JoinType::RIGHT:
            case duckdb::JoinType::RIGHT_SEMI:
            case duckdb::JoinType::RIGHT_ANTI:
              left_whole = true;
              break;
            default:  // FULL OUTER and anything else
              left_whole = right_whole = true;
              break;
          }
        }
        Ref(*join.left, left_whole);
        Ref(*join.right, right_whole);
        if (join.condition) {
          Expression(*join.condition, false);
        }
        return;
      }
      case duckdb::TableReferenceType::SUBQUERY: {
        auto& sub = ref.Cast<duckdb::SubqueryRef>();
        if (!sub.subquery || !sub.subquery->node) {
          return;
        }
        Walk inner;
        inner.ctes = ctes;
        inner.Node(*sub.subquery->node, /*top=*/false);
        if (!inner.whole_reason.empty()) {
          Whole(inner.whole_reason + " (in a subquery of FROM)");
        } else if (inner.has_aggregate) {
          Whole("an aggregate inside a subquery of FROM");
        }
        for (const auto& table : inner.tables) {
          bool whole = keep_whole || std::count(inner.not_splittable.begin(),
                                                inner.not_splittable.end(), table) != 0;
          AddTable(table, !whole);
        }
        return;
      }
      case duckdb::TableReferenceType::EMPTY_FROM:
      case duckdb::TableReferenceType::EXPRESSION_LIST:
        return;
      case duckdb::TableReferenceType::TABLE_FUNCTION:
        // A table function reads on its own; it is the same in every partition (broadcast).
        ParsedExpressionIterator::EnumerateTableRefChildren(
            ref, [&](unique_ptr<ParsedExpression>& child) { Expression(*child, false); });
        return;
      default:
        Whole("a " + ref.ToString() + " in FROM");
        return;
    }
  }

  void Node(duckdb::QueryNode& node, bool top) {
    for (auto& entry : node.cte_map.map) {
      // A WITH query is read like a subquery: what it reads is read whole.
      ctes.insert(ToLowerAscii(entry.first));
      Whole("a WITH clause (" + entry.first + ")");
      if (entry.second && entry.second->query && entry.second->query->node) {
        Subquery(*entry.second->query->node);
      }
    }
    if (node.type != duckdb::QueryNodeType::SELECT_NODE) {
      Whole("a set operation (UNION, EXCEPT, INTERSECT) or recursive query");
      ParsedExpressionIterator::EnumerateQueryNodeChildren(
          node, [&](unique_ptr<ParsedExpression>& child) { Expression(*child, false); },
          [&](duckdb::TableRef& ref) { Ref(ref, true); });
      return;
    }
    auto& select = node.Cast<duckdb::SelectNode>();
    for (auto& modifier : select.modifiers) {
      std::string reason;
      switch (modifier->type) {
        case duckdb::ResultModifierType::ORDER_MODIFIER:
          reason = "ORDER BY orders the whole relation";
          break;
        case duckdb::ResultModifierType::LIMIT_MODIFIER:
        case duckdb::ResultModifierType::LIMIT_PERCENT_MODIFIER:
          reason = "LIMIT counts rows of the whole relation";
          break;
        case duckdb::ResultModifierType::DISTINCT_MODIFIER:
          reason = "DISTINCT removes duplicates across the whole relation";
          break;
        default:
          reason = "a result modifier";
          break;
      }
      if (!top) {
        Whole(reason + " (in a subquery)");
      } else if (modifier_reason.empty()) {
        modifier_reason = reason;
      }
    }
    if (select.qualify) {
      Whole("QUALIFY filters on window functions");
    }
    if (select.sample) {
      Whole("USING SAMPLE samples the whole relation");
    }
    if (select.groups.grouping_sets.size() > 1) {
      Whole("GROUPING SETS, ROLLUP or CUBE");
    }
    if (select.from_table) {
      Ref(*select.from_table, false);
    }
    for (auto& expr : select.select_list) {
      Expression(*expr, false);
      if (expr->GetExpressionClass() == ExpressionClass::STAR) {
        if (!select.groups.group_expressions.empty() ||
            select.aggregate_handling == duckdb::AggregateHandling::FORCE_AGGREGATES) {
          Whole("SELECT * in an aggregation");
        }
      }
    }
    if (select.where_clause) {
      Expression(*select.where_clause, false);
    }
    for (auto& group : select.groups.group_expressions) {
      Expression(*group, false);
    }
    if (select.having) {
      Expression(*select.having, false);
    }
    if (!select.groups.group_expressions.empty() ||
        select.aggregate_handling == duckdb::AggregateHandling::FORCE_AGGREGATES) {
      has_aggregate = true;
    }
  }
};

Result<unique_ptr<duckdb::SelectStatement>> ParseSelect(const std::string& sql) {
  duckdb::Parser parser;
  try {
    parser.ParseQuery(sql);
  } catch (const std::exception& e) {
    return FromException(e);
  }
  if (parser.statements.size() != 1 ||
      parser.statements[0]->type != duckdb::StatementType::SELECT_STATEMENT) {
    return Status::SqlError("expected one SELECT query");
  }
  return unique_ptr<duckdb::SelectStatement>(
      static_cast<duckdb::SelectStatement*>(parser.statements[0].release()));
}

unique_ptr<ParsedExpression> Column(const std::string& name) {
  return duckdb::make_uniq<duckdb::ColumnRefExpression>(name);
}

unique_ptr<ParsedExpression> Call(const std::string& name, unique_ptr<ParsedExpression> arg) {
  duckdb::vector<unique_ptr<ParsedExpression>> args;
  args.push_back(std::move(arg));
  return duckdb::make_uniq<duckdb::FunctionExpression>(name, std::move(args));
}

unique_ptr<ParsedExpression> Cast(unique_ptr<ParsedExpression> arg, const duckdb::LogicalType& t) {
  return duckdb::make_uniq<duckdb::CastExpression>(t, std::move(arg));
}

unique_ptr<ParsedExpression> Divide(unique_ptr<ParsedExpression> a,
                                    unique_ptr<ParsedExpression> b) {
  duckdb::vector<unique_ptr<ParsedExpression>> args;
  args.push_back(std::move(a));
  args.push_back(std::move(b));
  auto call = duckdb::make_uniq<duckdb::FunctionExpression>("/", std::move(args));
  call->is_operator = true;
  return call;
}

// Builds the partial select list and the final expressions while walking the original query.
class Splitter {
 public:
  Splitter(const std::map<std::string, std::string>& sum_types) : sum_types_(sum_types) {}

  std::vector<unique_ptr<ParsedExpression>> partial_list;
  std::vector<std::string> type_columns;
  std::vector<unique_ptr<ParsedExpression>> groups;  // resolved grouping expressions

  // The final form of `expr`: grouping expressions become their __aq_g column, aggregates
  // their combination of partial columns.
  Status Rewrite(unique_ptr<ParsedExpression>& expr) {
    for (size_t i = 0; i < groups.size(); i++) {
      if (expr->Equals(*groups[i])) {
        std::string alias = expr->alias;
        expr = Column("__aq_g" + std::to_string(i));
        expr->alias = alias;
        return Status::OK();
      }
    }
    if (IsAggregate(*expr)) {
      std::string alias = expr->alias;
      AQ_ASSIGN_OR_RETURN(expr, Final(expr->Cast<duckdb::FunctionExpression>()));
      expr->alias = alias;
      return Status::OK();
    }
    Status status;
    ParsedExpressionIterator::EnumerateChildren(*expr, [&](unique_ptr<ParsedExpression>& child) {
      if (status.ok()) {
        status = Rewrite(child);
      }
    });
    return status;
  }

 private:
  // A partial column for `expr`, reused when the same expression was already added.
  std::string Partial(unique_ptr<ParsedExpression> expr) {
    for (size_t i = 0; i < partial_exprs_.size(); i++) {
      if (partial_exprs_[i]->Equals(*expr)) {
        return partial_list[i]->alias;
      }
    }
    std::string name = "__aq_a" + std::to_string(partial_list.size());
    partial_exprs_.push_back(expr->Copy());
    expr->alias = name;
    partial_list.push_back(std::move(expr));
    return name;
  }

  // A sum travels as text plus its type name; returns the cast back.
  unique_ptr<ParsedExpression> SumColumn(const duckdb::FunctionExpression& sum) {
    auto copy = sum.Copy();
    copy->alias.clear();
    auto& call = copy->Cast<duckdb::FunctionExpression>();
    call.function_name = "sum";
    std::string value = Partial(Cast(copy->Copy(), duckdb::LogicalType::VARCHAR));
    std::string type_column = value;
    type_column.replace(0, 6, "__aq_t");
    bool known = false;
    for (const auto& column : type_columns) {
      known = known || column == type_column;
    }
    if (!known) {
      auto type = Call("typeof", std::move(copy));
      type->alias = type_column;
      partial_exprs_.push_back(type->Copy());
      partial_list.push_back(std::move(type));
      type_columns.push_back(type_column);
    }
    auto it = sum_types_.find(type_column);
    std::string type_name = it != sum_types_.end() ? it->second : "sum_type_" + value.substr(6);
    auto type = it != sum_types_.end() ? duckdb::TransformStringToLogicalType(type_name)
                                       : duckdb::LogicalType::USER(type_name);
    return Call("sum", Cast(Column(value), type));
  }

  Result<unique_ptr<ParsedExpression>> Final(const duckdb::FunctionExpression& function) {
    if (!IsDecomposable(function)) {
      return Status::InvalidArgument("'" + function.ToString() + "' cannot be split");
    }
    std::string name = ToLowerAscii(function.function_name);
    auto partial = function.Copy();
    partial->alias.clear();
    if (name == "count" || name == "count_star") {
      return Cast(Call("sum", Column(Partial(std::move(partial)))), duckdb::LogicalType::BIGINT);
    }
    if (name == "min" || name == "max" || name == "bool_and" || name == "bool_or") {
      return Call(name, Column(Partial(std::move(partial))));
    }
    if (name == "every") {
      return Call("bool_and", Column(Partial(std::move(partial))));
    }
    if (name == "any") {
      return Call("bool_or", Column(Partial(std::move(partial))));
    }
    if (name == "sum") {
      return SumColumn(function);
    }
    // avg / mean: sum and count of the non-NULL values.
    auto count = function.Copy();
    count->Cast<duckdb::FunctionExpression>().function_name = "count";
    count->alias.clear();
    auto total = Cast(SumColumn(function), duckdb::LogicalType::DOUBLE);
    auto rows = Call("sum", Column(Partial(std::move(count))));
    auto nonzero = duckdb::make_uniq<duckdb::FunctionExpression>(
        "nullif", duckdb::vector<unique_ptr<ParsedExpression>>{});
    nonzero->children.push_back(Cast(std::move(rows), duckdb::LogicalType::DOUBLE));
    nonzero->children.push_back(
        duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value::DOUBLE(0)));
    return Divide(std::move(total), std::move(nonzero));
  }

  const std::map<std::string, std::string>& sum_types_;
  std::vector<unique_ptr<ParsedExpression>> partial_exprs_;
};

}  // namespace

Result<QueryAnalysis> AnalyzeQuery(const std::string& sql) {
  AQ_ASSIGN_OR_RETURN(auto statement, ParseSelect(sql));
  Walk walk;
  walk.Node(*statement->node, /*top=*/true);
  QueryAnalysis analysis;
  analysis.tables = walk.tables;
  analysis.not_splittable = walk.not_splittable;
  std::sort(analysis.tables.begin(), analysis.tables.end());
  analysis.tables.erase(std::unique(analysis.tables.begin(), analysis.tables.end()),
                        analysis.tables.end());
  if (!walk.whole_reason.empty()) {
    analysis.shape = QueryShape::kWhole;
    analysis.reason = walk.whole_reason;
  } else if (walk.has_aggregate && !walk.non_decomposable.empty()) {
    analysis.shape = QueryShape::kWhole;
    analysis.reason = "the aggregate " + walk.non_decomposable +
                      " cannot be computed from per-partition parts (decomposable: count, sum, "
                      "min, max, avg, bool_and, bool_or without DISTINCT or ORDER BY)";
  } else if (walk.has_aggregate) {
    analysis.shape = QueryShape::kAggregate;
  } else if (!walk.modifier_reason.empty()) {
    analysis.shape = QueryShape::kWhole;
    analysis.reason = walk.modifier_reason;
  } else {
    analysis.shape = QueryShape::kPerRow;
  }
  return analysis;
}

Result<AggregateSplit> SplitAggregate(const std::string& sql, const std::string& partial_relation,
                                      const std::map<std::string, std::string>& sum_types) {
  AQ_ASSIGN_OR_RETURN(QueryAnalysis analysis, AnalyzeQuery(sql));
  if (analysis.shape != QueryShape::kAggregate) {
    return Status::InvalidArgument("not a decomposable aggregate: " + analysis.reason);
  }
  AQ_ASSIGN_OR_RETURN(auto statement, ParseSelect(sql));
  auto& select = statement->node->Cast<duckdb::SelectNode>();
  try {
    // Output names stay those of the original query.
    for (auto& expr : select.select_list) {
      if (expr->alias.empty()) {
        expr->alias = expr->GetName();
      }
    }
    Splitter splitter(sum_types);
    // The grouping expressions, with GROUP BY <ordinal>, <alias> and ALL resolved to the
    // select-list expressions they stand for.
    if (select.aggregate_handling == duckdb::AggregateHandling::FORCE_AGGREGATES) {
      for (auto& expr : select.select_list) {
        bool aggregates = false;
        ParsedExpressionIterator::VisitExpressionClass(
            *expr, ExpressionClass::FUNCTION,
            [&](const ParsedExpression& child) { aggregates = aggregates || IsAggregate(child); });
        if (!aggregates) {
          auto group = expr->Copy();
          group->alias.clear();
          splitter.groups.push_back(std::move(group));
        }
      }
    }
    for (auto& group : select.groups.group_expressions) {
      unique_ptr<ParsedExpression> resolved = group->Copy();
      if (group->GetExpressionClass() == ExpressionClass::CONSTANT) {
        auto& value = group->Cast<duckdb::ConstantExpression>().value;
        if (value.type().IsIntegral()) {
          int64_t index = value.GetValue<int64_t>();
          if (index < 1 || index > static_cast<int64_t>(select.select_list.size())) {
            return Status::InvalidArgument("GROUP BY " + std::to_string(index) +
                                           " is out of range");
          }
          resolved = select.select_list[index - 1]->Copy();
        }
      } else if (group->GetExpressionClass() == ExpressionClass::COLUMN_REF) {
        auto& ref = group->Cast<duckdb::ColumnRefExpression>();
        for (auto& expr : select.select_list) {
          if (ref.column_names.size() == 1 &&
              ToLowerAscii(expr->alias) == ToLowerAscii(ref.column_names[0]) &&
              expr->GetExpressionClass() != ExpressionClass::COLUMN_REF) {
            resolved = expr->Copy();
          }
        }
      }
      resolved->alias.clear();
      splitter.groups.push_back(std::move(resolved));
    }

    auto partial = duckdb::make_uniq<duckdb::SelectNode>();
    for (size_t i = 0; i < splitter.groups.size(); i++) {
      auto column = splitter.groups[i]->Copy();
      column->alias = "__aq_g" + std::to_string(i);
      partial->select_list.push_back(std::move(column));
      partial->groups.group_expressions.push_back(splitter.groups[i]->Copy());
    }
    if (!splitter.groups.empty()) {
      duckdb::GroupingSet all;
      for (size_t i = 0; i < splitter.groups.size(); i++) {
        all.insert(i);
      }
      partial->groups.grouping_sets.push_back(all);
    }

    auto final_node = duckdb::make_uniq<duckdb::SelectNode>();
    for (auto& expr : select.select_list) {
      auto copy = expr->Copy();
      AQ_RETURN_IF_ERROR(splitter.Rewrite(copy));
      final_node->select_list.push_back(std::move(copy));
    }
    if (select.having) {
      auto having = select.having->Copy();
      AQ_RETURN_IF_ERROR(splitter.Rewrite(having));
      final_node->having = std::move(having);
    }
    for (auto& modifier : select.modifiers) {
      auto copy = modifier->Copy();
      if (copy->type == duckdb::ResultModifierType::ORDER_MODIFIER) {
        for (auto& order : copy->Cast<duckdb::OrderModifier>().orders) {
          if (order.expression->GetExpressionClass() != ExpressionClass::CONSTANT) {
            AQ_RETURN_IF_ERROR(splitter.Rewrite(order.expression));
          }
        }
      }
      final_node->modifiers.push_back(std::move(copy));
    }
    for (size_t i = 0; i < splitter.groups.size(); i++) {
      final_node->groups.group_expressions.push_back(Column("__aq_g" + std::to_string(i)));
    }
    if (!splitter.groups.empty()) {
      final_node->groups.grouping_sets = partial->groups.grouping_sets;
    }
    final_node->from_table = duckdb::make_uniq<duckdb::BaseTableRef>();
    final_node->from_table->Cast<duckdb::BaseTableRef>().table_name = partial_relation;

    for (auto& expr : splitter.partial_list) {
      partial->select_list.push_back(expr->Copy());
    }
    partial->from_table = std::move(select.from_table);
    partial->where_clause = std::move(select.where_clause);

    AggregateSplit split;
    split.partial_sql = partial->ToString();
    split.final_sql = final_node->ToString();
    split.type_columns = splitter.type_columns;
    return split;
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

}  // namespace aqueducts::engine
